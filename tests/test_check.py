"""`monitor check`: config and rules together, every problem in one run as path:line:col,
the database opened for real (SQLite files, the machine's PostgreSQL, a closed port)."""

import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from monitor.check import check
from monitor.cli import main
from monitor.resources import rules_dir
from monitor.store import Store
from tests.conftest import POSTGRES_URL, REPO, postgres_unreachable

CLOSED_PORT_URL = "postgresql://postgres@127.0.0.1:1/test"


def run(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False, env=env)


def write(tmp_path, text_, name="monitor.yaml"):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text_))
    return path


def good_config(tmp_path, extra=""):
    return write(
        tmp_path,
        textwrap.dedent(f"""\
        rules: {rules_dir()}
        feeds: [{{url: "https://example.org/rss", tags: [mideast]}}]
        smtp: {{host: localhost, from: "News Monitor <alerts@example.org>"}}
        subscriptions:
          - name: desk
            email: desk@example.org
            rules: [ceasefire, feed-health]
            tags: [humanitarian, mideast]
            schedule: daily 07:30 Europe/Berlin
        """)
        + textwrap.indent(textwrap.dedent(extra), "  "),
    )


def test_a_clean_setup_is_one_summary_line_and_exit_0(tmp_path):
    config = good_config(tmp_path)
    result = run("check", "-c", config, env={"MONITOR_DATABASE_URL": ""})
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"{config}: OK (1 feed, 1 subscription, 3 rules in 2 files, "
        f"database sqlite:///{tmp_path}/monitor.db reachable)\n"
    )
    assert not (tmp_path / "monitor.db").exists()  # checking writes nothing


def test_every_problem_of_config_rules_and_subscriptions_in_one_run(tmp_path):
    rules = tmp_path / "rules"
    write(
        rules,
        """\
        rules:
          - id: quake
            tags: [disaster]
            match: {any: ["/(unclosed/", $nope]}
            colour: red
          - id: quake
            match: {any: [tremor]}
        """,
        "a.yaml",
    )
    write(
        rules, "rules:\n  - id: flood\n    match: {any: [flood*]}\n    severity: dire\n", "b.yaml"
    )
    config = write(
        tmp_path,
        """\
        feeds:
          - {url: "https://example.org/rss", tags: [mideast]}
        smtp: {host: localhost, from: "not an address"}
        subscriptions:
          - name: desk
            email: [desk@example.org, not-an-address]
            rules: [quake]
          - name: chat
            webhook: {url: "ftp://example.org/hook"}
            rules: [quake, flod]
            tags: [disaster, mideast, nobody-carries-this]
            schedule: daily 07:30 Mars/Olympus
          - name: ops
            webhook: {url: "https://example.org/hook"}
            rules: [flood, feed-health]
            tags: [disaster, nobody-carries-this]
        """,
    )
    result = run("check", "-c", config, env={"MONITOR_DATABASE_URL": ""})
    assert result.exit_code == 1
    lines = result.stderr.replace(f"{tmp_path}/", "").splitlines()
    assert lines == [
        "monitor.yaml:3:31: smtp.from: 'not an address' is not an email address "
        "(expected alerts@example.org or News Monitor <alerts@example.org>)",
        "monitor.yaml:6:12: subscriptions.0.email: invalid email address 'not-an-address': "
        "An email address must have an @-sign.",
        # chat's time zone is in error: the rest of chat is checked all the same
        "monitor.yaml:9:20: webhook url 'ftp://example.org/hook' is not an http:// or https:// URL",
        "monitor.yaml:10:20: subscription 'chat': unknown rule 'flod'",
        "monitor.yaml:11:31: subscription 'chat': no rule and no feed has the tag "
        "'nobody-carries-this', so it receives nothing by it",
        "monitor.yaml:12:15: subscriptions.1.schedule: unknown time zone 'Mars/Olympus' "
        "(expected an IANA name like Europe/Berlin)",
        "monitor.yaml:16:22: subscription 'ops': no rule and no feed has the tag "
        "'nobody-carries-this', so it receives nothing by it",
        # an unknown key hides neither the bad regex, the unknown list nor the duplicate id
        "rules/a.yaml:4:19: invalid regular expression /(unclosed/ (missing ): (unclosed)",
        "rules/a.yaml:4:34: unknown list '$nope' (define it under lists:)",
        "rules/a.yaml:5:5: unknown key 'colour' in rules.0",
        "rules/a.yaml:6:9: duplicate rule id 'quake' (first defined in rules/a.yaml)",
        "rules/b.yaml:4:15: rules.0.severity: Input should be 'info', 'low', 'medium', 'high' "
        "or 'critical'",
        "monitor.yaml: 12 problems",
    ]
    # lint warnings are said, on stdout, and fail nothing
    assert result.stdout.replace(f"{tmp_path}/", "") == (
        "rules/a.yaml:6:9: warning: rule 'quake' has no examples: `monitor rules test` cannot check it\n"
    )


def test_unknown_rules_and_tags_in_a_valid_subscription(tmp_path):
    config = good_config(
        tmp_path,
        """\
          - name: chat
            webhook: {url: "https://example.org/hook", format: slack}
            rules: [cease-fire]
            tags: [humanitarain]
        """,
    )
    report = check(config, {})
    assert [f"{p.line}:{p.col}: {p.message}" for p in report.problems] == [
        "12:13: subscription 'chat': unknown rule 'cease-fire'",
        "13:12: subscription 'chat': no rule and no feed has the tag 'humanitarain', "
        "so it receives nothing by it",
    ]
    assert not report.ok and report.rules == 3


def test_a_webhook_url_from_the_environment_is_checked_but_never_printed(tmp_path):
    config = good_config(
        tmp_path,
        """\
          - name: chat
            webhook: {url_env: CHAT_URL, format: slack}
            rules: [ceasefire]
        """,
    )
    report = check(config, {"CHAT_URL": "hooks.slack.com/services/T0/B0/s3cret"})
    [line] = report.lines()
    assert line == f"{config}:11:24: CHAT_URL: the webhook URL is not an http:// or https:// URL"


@pytest.mark.parametrize(
    ("database", "cause"),
    [
        ("sqlite:///missing/folder/monitor.db", "the folder {tmp}/missing/folder does not exist"),
        ("sqlite:///not-a-database.db", "file is not a database"),
        ("mysql://user@db.example.org/monitor", "its driver is not installed"),
        ("a database", "not a database URL (expected sqlite:///FILE or postgresql://USER@HOST/DB)"),
    ],
    ids=["missing-folder", "not-a-database", "no-driver", "not-a-url"],
)
def test_a_database_that_cannot_be_opened_is_one_line_at_its_key(tmp_path, database, cause):
    (tmp_path / "not-a-database.db").write_bytes(b"this is not SQLite" * 10)
    config = good_config(tmp_path).read_text()
    path = write(tmp_path, f"database: {database}\n{config}")
    result = run("check", "-c", path, env={"MONITOR_DATABASE_URL": ""})
    assert result.exit_code == 1
    [line, summary] = result.stderr.splitlines()
    assert line.startswith(f"{path}:1:11: database: cannot open ")
    assert cause.format(tmp=tmp_path) in line
    assert summary == f"{path}: 1 problem"


def test_an_unreachable_postgresql_names_the_variable_and_the_cause(tmp_path):
    # the real console script: no traceback, one line
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "check", "-c", str(good_config(tmp_path))],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "MONITOR_DATABASE_URL": CLOSED_PORT_URL},
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "MONITOR_DATABASE_URL: cannot open postgresql+psycopg://postgres@127.0.0.1:1/test "
        '(connection to server at "127.0.0.1", port 1 failed: Connection refused)',
        f"{tmp_path / 'monitor.yaml'}: 1 problem",
    ]
    assert result.stdout == ""


def test_a_reachable_postgresql_passes(tmp_path):
    reason = postgres_unreachable()
    if reason:
        pytest.skip(reason)
    report = check(good_config(tmp_path), {"MONITOR_DATABASE_URL": POSTGRES_URL})
    assert report.ok, report.lines()
    assert "database postgresql+psycopg://postgres@127.0.0.1:5432/test reachable" in (
        report.summary()
    )


def test_a_database_migrated_by_a_newer_version_is_a_problem(tmp_path):
    Store(f"sqlite:///{tmp_path}/monitor.db").close()
    engine = create_engine(f"sqlite:///{tmp_path}/monitor.db")
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    [line] = check(good_config(tmp_path), {}).lines()
    assert line.endswith(
        "(its schema is at revision 9999, which this version of news-monitor does not know: "
        "a newer version migrated it)"
    )


def test_a_config_in_error_skips_what_depends_on_it(tmp_path):
    config = write(tmp_path, "database: ${NOPE_DB}\nrules: [1, 2\n")
    [line] = check(config, {}).lines()
    assert line.startswith(f"{config}:3:1: invalid YAML")
    config = write(tmp_path, "database: ${NOPE_DB}\nfeeds: [{url: https://example.org/rss}]\n")
    # the database is not opened when its URL is itself in error; no rules folder is a problem
    assert [line.replace(str(tmp_path), "") for line in check(config, {}).lines()] == [
        "/monitor.yaml:1:11: environment variable NOPE_DB is not set",
        "/rules:1:1: cannot read rule file ([Errno 2] No such file or directory: '/rules')",
    ]


def test_feeds_is_no_longer_presented_as_the_checker():
    docs = (REPO / "README.md").read_text() + (REPO / "docs" / "config.md").read_text()
    docs += (REPO / "monitor.example.yaml").read_text()
    assert "monitor check" in docs
    assert "feeds -c monitor.yaml`: it prints" not in docs
    assert "Check it loads:  .venv/bin/monitor feeds" not in docs
