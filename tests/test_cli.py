import asyncio
import json
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.resources import rules_dir, seeds_dir
from tests.conftest import REPO, queue_digest


def run(*args, **kwargs):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False, **kwargs)


def test_replay_json_prints_one_object_per_document():
    # the real console entry point, from the repository root, as the README shows it
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "replay", "seeds/mee-syria-envoy.html", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    [line] = result.stdout.splitlines()
    doc = json.loads(line)
    assert doc["source"] == "seeds/mee-syria-envoy.html"
    assert doc["title"] == "UN Syria peace envoy travels to Moscow"
    assert doc["url"] == "https://www.middleeasteye.net/news/un-syria-peace-envoy-travels-moscow"
    matches = {m["rule"]: m for m in doc["matches"]}
    assert sorted(matches) == ["ceasefire", "displacement-figures", "envoy-travel"]
    assert matches["displacement-figures"]["figures"] == [
        {"value": 40000, "text": "40,000", "qualifier": "at least", "approximate": False}
    ]
    assert matches["envoy-travel"]["captures"] == {"destination": ["Moscow", "Washington"]}
    for match in matches.values():
        assert set(match) == {
            "rule",
            "title",
            "severity",
            "figures",
            "captures",
            "snippets",
            "summary",
            "hits",
        }
        for hit in match["hits"]:
            assert match["snippets"][hit["snippet"]][hit["start"] : hit["end"]] == hit["text"]


def test_replay_of_a_feed_file_gives_each_entry_with_the_feed_as_source():
    result = run("replay", seeds_dir() / "feed.xml", "-r", rules_dir(), "--json")
    assert result.exit_code == 0
    docs = [json.loads(line) for line in result.output.splitlines()]
    assert len(docs) == 5
    assert {d["source"] for d in docs} == {str(seeds_dir() / "feed.xml")}
    assert all(d["url"].startswith("https://www.middleeasteye.net/news/") for d in docs)
    seed = next(d for d in docs if "envoy" in d["title"])
    assert {m["rule"] for m in seed["matches"]} == {"displacement-figures", "envoy-travel"}
    assert all(d["matches"] == [] for d in docs if d is not seed)


def test_replay_of_text_and_human_output(tmp_path):
    path = tmp_path / "note.txt"
    path.write_text("A 72-hour cease-fire took effect at midnight.")
    result = run("replay", path, "-r", rules_dir())
    assert result.exit_code == 0
    assert "ceasefire (medium): Ceasefire mentioned" in result.output
    assert "> A 72-hour **cease-fire** took effect at midnight." in result.output


def test_rules_commands(tmp_path):
    assert run("rules", "check", rules_dir()).output.endswith("rules OK\n")
    tested = run("rules", "test", rules_dir())
    assert tested.exit_code == 0 and " passed, 0 failed" in tested.output
    schema = json.loads(run("rules", "schema").output)
    assert "rules" in schema["properties"]

    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - id: x\n    match: {any: [a]}\n    severty: high\n")
    result = run("rules", "check", bad)
    assert result.exit_code == 1
    assert f"{bad}:4:5: unknown key 'severty' in rules.0" in result.output


def test_failing_rule_example_exits_1(tmp_path):
    (tmp_path / "r.yaml").write_text(
        textwrap.dedent("""\
        rules:
          - id: quake
            match: {any: [earthquake]}
            examples:
              - text: "A tremor shook the city."
                expect: {match: true}
        """)
    )
    result = run("rules", "test", tmp_path)
    assert result.exit_code == 1
    assert "FAIL quake example 1: 'A tremor shook the city.'" in result.output
    assert "expected match: true, got match: false" in result.output


def test_exit_codes_for_bad_config_and_usage(tmp_path):
    config = tmp_path / "monitor.yaml"
    config.write_text("feeds: []\n")
    result = run("once", "-c", config)
    assert result.exit_code == 1
    assert f"{config}:1:8:" in result.output
    assert run("replay").exit_code == 2
    assert run("frobnicate").exit_code == 2


def test_feeds_and_digest_preview(tmp_path):
    config = tmp_path / "monitor.yaml"
    config.write_text(
        textwrap.dedent(f"""\
        rules: {rules_dir()}
        feeds: [{{url: "https://example.org/rss"}}]
        subscriptions:
          - name: chat
            webhook: {{url: "https://example.org/hook"}}
            rules: [ceasefire]
        """)
    )
    result = run("feeds", "-c", config)
    assert result.exit_code == 0
    assert result.output == (
        "https://example.org/rss\n  never polled (no worker has run with this feed yet)\n"
    )
    assert run("digest", "preview", "chat", "-c", config).output.endswith(
        "no pending alerts for chat\n"
    )
    assert run("digest", "preview", "nobody", "-c", config).exit_code == 2


async def test_outbox_lists_and_requeues_dead_letters(tmp_path, smtp_sink):
    from monitor.store import Store

    config = tmp_path / "monitor.yaml"
    config.write_text(
        textwrap.dedent(f"""\
        rules: {rules_dir()}
        feeds: [{{url: "https://example.org/rss"}}]
        smtp: {{host: 127.0.0.1, port: {smtp_sink.port}}}
        subscriptions:
          - name: desk
            email: desk@example.org
            rules: [ceasefire]
        """)
    )
    store = Store(f"sqlite:///{tmp_path}/monitor.db")
    store.subscription_state("desk")
    queue_digest(store, "desk", [], 0, subject="1 alert: Ceasefire mentioned")
    [row] = store.due_deliveries()
    store.mark_failed(row.id, "email: 550 no such user", None)
    store.close()

    listed = run("outbox", "-c", config)
    assert (
        f"{row.id:>6} dead     desk -> desk@example.org  attempts 1  1 alert: Ceasefire mentioned"
        in listed.output
    )
    assert "last error: email: 550 no such user" in listed.output
    assert listed.output.endswith("0 pending, 1 dead, 0 sent, 0 skipped\n")
    assert run("outbox", "-c", config, "--requeue-dead").output == "requeued 1 deliveries\n"
    assert run("outbox", "-c", config).output.endswith("1 pending, 0 dead, 0 sent, 0 skipped\n")


def test_an_unsubscribe_by_mail_is_recorded_and_listed(tmp_path):
    config = tmp_path / "monitor.yaml"
    config.write_text(
        textwrap.dedent(f"""\
        rules: {rules_dir()}
        feeds: [{{url: "https://example.org/rss"}}]
        smtp: {{host: 127.0.0.1}}
        subscriptions:
          - name: desk
            email: [desk@example.org, duty@example.org]
            rules: [ceasefire, envoy-travel]
        """)
    )
    done = run("unsubscribe", "desk", "desk@example.org", "-c", config)
    assert done.output == "desk: desk@example.org unsubscribed\n"
    muted = run("unsubscribe", "desk", "duty@example.org", "--rule", "ceasefire", "-c", config)
    assert muted.output == "desk: duty@example.org rule ceasefire muted\n"
    listing = run("subscriptions", "-c", config).output
    assert "desk@example.org  unsubscribed " in listing
    assert "duty@example.org  receiving (muted: rule ceasefire)" in listing

    run("unsubscribe", "desk", "desk@example.org", "--undo", "-c", config)
    assert "desk@example.org  receiving\n" in run("subscriptions", "-c", config).output

    unknown = run("unsubscribe", "desk", "boss@example.org", "-c", config)
    assert unknown.exit_code == 2
    assert "no email subscription 'desk' with the address 'boss@example.org'" in unknown.output


def test_replay_explain_says_why_each_rule_did_not_fire(tmp_path):
    path = tmp_path / "note.txt"
    path.write_text(
        "Rescuers reached 12,000 residents fleeing the floodwaters.\nThe two sides agreed a trade truce."
    )
    human = run("replay", path, "-r", rules_dir(), "--explain")
    assert human.exit_code == 0
    assert "displacement-figures (high)" in human.output  # it fired: its hits as usual
    assert (
        "  ceasefire: did not fire\n    - vetoed by none: 'trade' within 3 of 'truce'"
        in human.output
    )
    assert "envoy-travel: did not fire" in human.output

    only = run("replay", path, "-r", rules_dir(), "--explain", "ceasefire", "--json")
    [doc] = [json.loads(line) for line in only.output.splitlines()]
    assert doc["explanations"] == [
        {
            "rule": "ceasefire",
            "matched": False,
            "reasons": ["vetoed by none: 'trade' within 3 of 'truce'"],
        }
    ]
    unknown = run("replay", path, "--explain", "no-such-rule")
    assert unknown.exit_code == 2 and "no rule 'no-such-rule'" in unknown.output


def test_rules_eval_prints_the_table_and_gates_on_min_f1(tmp_path):
    (tmp_path / "a.txt").write_text("Fighting has displaced 40,000 people in Sudan.")
    (tmp_path / "b.txt").write_text("Markets rose on Monday.")
    (tmp_path / "labels.jsonl").write_text(
        json.dumps(
            {
                "file": "a.txt",
                "expect": {"displacement-figures": {"match": True, "figures": [40000]}},
            }
        )
        + "\n"
        + json.dumps({"file": "b.txt", "expect": {"ceasefire": {"match": True}}})
        + "\n"
    )
    result = run("rules", "eval", tmp_path, "-r", rules_dir())
    assert result.exit_code == 0
    assert "ceasefire: b.txt: miss: no match, labelled a match" in result.output
    assert result.output.splitlines()[-3].split()[0] == "rule"
    as_json = json.loads(run("rules", "eval", tmp_path, "-r", rules_dir(), "--json").output)
    assert {r["rule"]: r["f1"] for r in as_json["rules"]} == {
        "displacement-figures": 1.0,
        "ceasefire": 0.0,
    }
    gated = run("rules", "eval", tmp_path, "-r", rules_dir(), "--min-f1", "0.9")
    assert gated.exit_code == 1 and "F1 below 0.9: ceasefire" in gated.output
    missing = run("rules", "eval", tmp_path / "nowhere", "-r", rules_dir())
    assert missing.exit_code == 1 and "cannot read labels" in missing.output


def db_config(tmp_path, database="sqlite:///missing/folder/monitor.db", extra=""):
    config = tmp_path / "monitor.yaml"
    config.write_text(
        textwrap.dedent(f"""\
        database: {database}
        rules: {rules_dir()}
        allow_private_networks: true
        feeds: [{{url: "http://127.0.0.1:1/rss"}}]
        smtp: {{host: 127.0.0.1, port: 1}}
        subscriptions:
          - {{name: desk, email: desk@example.org, rules: [ceasefire]}}
        """)
        + extra
    )
    return config


STORE_COMMANDS = [
    ["feeds"],
    ["outbox"],
    ["outbox", "--requeue", "1"],
    ["subscriptions"],
    ["digest", "preview", "desk"],
    ["unsubscribe", "desk", "desk@example.org"],
    ["once"],
    ["status"],
    ["db", "upgrade"],
    ["db", "current"],
]


@pytest.mark.parametrize("command", STORE_COMMANDS, ids=" ".join)
def test_a_database_in_a_missing_folder_is_one_line_for_every_command(tmp_path, command):
    config = db_config(tmp_path)
    result = CliRunner().invoke(
        main, [*command, "-c", str(config)], env={"MONITOR_DATABASE_URL": ""}
    )
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[-1] == (
        f"{config}:1:11: database: cannot open sqlite:///{tmp_path}/missing/folder/monitor.db "
        f"(the folder {tmp_path}/missing/folder does not exist)"
    )
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("database", "cause"),
    [
        ("a database", "not a database URL (expected sqlite:///FILE or postgresql://USER@HOST/DB)"),
        ("mysql://user@db.example.org/monitor", "its driver is not installed (No module named"),
    ],
    ids=["not-a-url", "no-driver"],
)
def test_the_worker_says_in_one_line_a_database_url_it_cannot_use(tmp_path, database, cause):
    config = db_config(tmp_path, database)
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "run", "-c", str(config)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{config}:1:11: database: cannot open ") and cause in line


@pytest.mark.parametrize("command", [["run"], ["once"], ["status"]], ids=" ".join)
def test_an_unreachable_postgresql_is_one_line_naming_the_variable(tmp_path, command):
    result = subprocess.run(
        [sys.executable, "-m", "monitor", *command, "-c", str(db_config(tmp_path))],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "PATH": "/usr/bin:/bin",
            "MONITOR_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/test",
        },
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "MONITOR_DATABASE_URL: cannot open postgresql+psycopg://postgres@127.0.0.1:1/test "
        '(connection to server at "127.0.0.1", port 1 failed: Connection refused)'
    ]


def test_replay_of_an_unreadable_source_exits_1_after_the_others(tmp_path):
    good = tmp_path / "note.txt"
    good.write_text("A 72-hour cease-fire took effect at midnight.")
    missing = tmp_path / "missing.html"
    result = run("replay", missing, good, "-r", rules_dir(), "--json")
    assert result.exit_code == 1
    assert result.stderr == f"{missing}: cannot read file (No such file or directory)\n"
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["source"] for d in docs] == [str(missing), str(good)]
    assert docs[0]["error"] == "cannot read file (No such file or directory)"
    assert [m["rule"] for m in docs[1]["matches"]] == ["ceasefire"]
    assert run("replay", good, "-r", rules_dir()).exit_code == 0


def test_requeue_says_which_ids_it_refused_and_why(tmp_path):
    from monitor.store import Store

    config = db_config(tmp_path, "sqlite:///monitor.db")
    store = Store(f"sqlite:///{tmp_path}/monitor.db")
    store.subscription_state("desk")
    for subject in ("sent", "skipped", "dead"):
        queue_digest(store, "desk", subject=subject, target=f"{subject}@example.org")
    sent, skipped, dead = store.due_deliveries()
    store.mark_sent(sent.id)
    store.mark_skipped(skipped.id, "the recipient unsubscribed")
    store.mark_failed(dead.id, "email: 550 no such user", None)
    store.close()

    ids = [dead.id, sent.id, skipped.id, 999]
    result = run("outbox", "-c", config, *(f"--requeue={i}" for i in ids))
    assert result.exit_code == 1
    assert result.stdout == "requeued 1 deliveries\n"
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"outbox: delivery {sent.id} was already sent (")
    assert lines[0].endswith("Z): not requeued")
    assert lines[1:] == [
        f"outbox: delivery {skipped.id} was skipped (the recipient unsubscribed): not requeued",
        "outbox: no delivery 999 (monitor outbox --all lists them)",
    ]
    # the dead letter is pending again; requeueing a pending one is fine
    again = run("outbox", "-c", config, "--requeue", dead.id)
    assert (again.exit_code, again.output) == (0, "requeued 1 deliveries\n")


async def test_once_that_dead_letters_a_delivery_exits_3(tmp_path, smtp_sink):
    from monitor.store import Store

    smtp_sink.reply = "550 5.1.1 no such user"
    config = db_config(tmp_path, "sqlite:///monitor.db")
    config.write_text(config.read_text().replace("port: 1}", f"port: {smtp_sink.port}}}"))
    store = Store(f"sqlite:///{tmp_path}/monitor.db")
    store.subscription_state("desk")
    queue_digest(store, "desk", subject="1 alert: Ceasefire mentioned")
    store.close()

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "monitor", "once", "-c", str(config),
        cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 3, err.decode()
    assert out.decode().startswith("polled 1 feeds (1 failed), ")  # a failed feed is no failure
    assert err.decode().splitlines()[-1] == (
        "1 delivery dead-lettered in this cycle (monitor outbox says why)"
    )
    # nothing left to send: the next cycle did its job
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "monitor", "once", "-c", str(config),
        cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0


def test_db_upgrade_and_current(tmp_path, database_url):
    from alembic import command
    from alembic.config import Config as AlembicConfig
    from sqlalchemy import create_engine

    from monitor.database import head_revision
    from monitor.store.base import MIGRATIONS

    head = head_revision()
    config = db_config(tmp_path, "sqlite:///monitor.db")
    env = {"MONITOR_DATABASE_URL": database_url}

    def db(*args):
        return CliRunner().invoke(main, ["db", *args, "-c", str(config)], env=env)

    if database_url.startswith("sqlite"):
        empty = db("current")
        assert (empty.exit_code, empty.output) == (
            4,
            f"empty (no schema yet; head is {head}: monitor db upgrade)\n",
        )
        assert not (tmp_path / "monitor.db").exists()  # looking created nothing
    # an older schema, as an older version left it
    engine = create_engine(database_url)
    alembic = AlembicConfig()
    alembic.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        alembic.attributes["connection"] = conn
        command.upgrade(alembic, "0005")
    engine.dispose()
    behind = db("current")
    assert (behind.exit_code, behind.output) == (
        4,
        f"0005 (behind head {head}: monitor db upgrade)\n",
    )
    upgraded = db("upgrade")
    assert (upgraded.exit_code, upgraded.output) == (
        0,
        f"database upgraded from 0005 to {head} (head)\n",
    )
    assert db("current").output == f"{head} (head)\n"
    assert db("upgrade").output == f"database already at {head} (head)\n"


def test_db_current_of_a_newer_schema_exits_1(tmp_path):
    from sqlalchemy import create_engine, text

    from monitor.store import Store

    Store(f"sqlite:///{tmp_path}/monitor.db").close()
    engine = create_engine(f"sqlite:///{tmp_path}/monitor.db")
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    config = db_config(tmp_path, "sqlite:///monitor.db")
    current = run("db", "current", "-c", config)
    assert current.exit_code == 1
    assert current.stderr == (
        f"{config}:1:11: database: its schema is at revision 9999, which this version of "
        "news-monitor does not know: a newer version migrated it\n"
    )
    # every other command says the same, in one line
    feeds = run("feeds", "-c", config)
    assert feeds.exit_code == 1 and feeds.stderr.endswith("a newer version migrated it)\n")
