"""`monitor silence add/list/expire`: what a silence would have hidden before it is saved,
the lists, ending one early, and errors with the README's exit codes."""

import re
import textwrap
from datetime import timedelta

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.models import Article, Match
from monitor.resources import rules_dir
from monitor.store import Store
from monitor.timeutil import utcnow

FEED = "https://example.org/rss"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "monitor.yaml"
    path.write_text(
        textwrap.dedent(f"""\
        rules: {rules_dir()}
        feeds: [{{url: "{FEED}", tags: [mideast]}}]
        subscriptions:
          - name: desk
            webhook: {{url: "https://example.org/hook"}}
            rules: [ceasefire, envoy-travel]
          - name: cases
            webhook: {{url: "https://example.org/cases"}}
            tags: [humanitarian]
        """)
    )
    return path


def seed_alerts(tmp_path, rules, days=0):
    """Alerts of `rules`, one article each, `days` ago (new to the subscriptions)."""
    store = Store(f"sqlite:///{tmp_path}/monitor.db")
    when = utcnow() - timedelta(days=days)
    try:
        for name in ("desk", "cases"):
            store.subscription_state(name)
        for i, rule in enumerate(rules):
            url = f"https://example.org/news/{days}-{i}"
            article = Article(
                url=url,
                title=f"Truce {i} holds\r\nin <b>Idlib</b>",
                text=f"Article {days} {i} about a truce, at its own length. " * 4,
                feed_url=FEED,
            )
            article_id, _, _ = store.add_article(url, article, now=when)
            store.add_alert(article_id, Match(rule, rule, "medium"), ("mideast",), now=when)
    finally:
        store.close()


def test_add_says_what_it_would_have_hidden_then_saves(tmp_path, config):
    seed_alerts(tmp_path, ["ceasefire"] * 7 + ["envoy-travel"])
    seed_alerts(tmp_path, ["ceasefire"] * 2, days=9)  # older than a week: not counted
    result = run(
        "silence", "add", "--rule", "ceasefire", "--for", "2h", "--comment", "truce talks",
        "--author", "ana", "-c", config,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "would have hidden 7 alerts in the last 7 days"
    assert re.match(
        r"  \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ  ceasefire  Truce 6 holds in <b>Idlib</b>$", lines[1]
    )
    assert "… and" not in result.output  # 7 alerts: all shown
    assert re.match(
        r"silence 1 saved: rule ceasefire for all subscriptions until \S+ \S+Z \(2h left\)$",
        lines[-1],
    )
    listed = run("silence", "list", "-c", config)
    assert re.match(
        r"    1  active   rule ceasefire  all subscriptions  until \S+ \S+Z  by ana: truce talks\n$",
        listed.output,
    )


def test_for_one_subscription_it_counts_what_that_one_receives(tmp_path, config):
    seed_alerts(tmp_path, ["ceasefire"] * 3)
    until = f"{utcnow() + timedelta(days=2):%Y-%m-%dT%H:%M}Z"
    result = run(
        "silence", "add", "--tag", "mideast", "--subscription", "cases", "--until", until,
        "--comment", "c", "--author", "ana", "-c", config, "--dry-run",
    )  # fmt: skip
    # the cases desk receives by the tag humanitarian only: nothing of this would reach it
    assert (
        result.output
        == "would have hidden 0 alerts in the last 7 days\nnothing saved (--dry-run)\n"
    )
    assert run("silence", "list", "--all", "-c", config).output == "no silences\n"
    desk = run(
        "silence", "add", "--tag", "mideast", "--subscription", "desk", "--for", "1d",
        "--comment", "c", "--author", "ana", "-c", config,
    )  # fmt: skip
    assert desk.output.startswith("would have hidden 3 alerts in the last 7 days\n")
    assert "saved: tag mideast for desk until" in desk.output


def test_many_alerts_are_summed_up(tmp_path, config):
    seed_alerts(tmp_path, ["ceasefire"] * 12)
    result = run(
        "silence", "add", "--feed", FEED, "--for", "30m", "--comment", "feed gone wild", "--author",
        "ana", "-c", config,
    )  # fmt: skip
    assert result.output.splitlines()[0] == "would have hidden 12 alerts in the last 7 days"
    assert "  … and 2 more" in result.output


def test_list_and_expire(tmp_path, config):
    for rule in ("ceasefire", "envoy-travel"):
        run(
            "silence",
            "add",
            "--rule",
            rule,
            "--for",
            "1h",
            "--comment",
            "x",
            "--author",
            "ana",
            "-c",
            config,
        )
    assert run("silence", "list", "-c", config).output.count(" active ") == 2
    ended = run("silence", "expire", "1", "-c", config)
    assert ended.exit_code == 0
    assert ended.output == "silence 1 ended: rule ceasefire for all subscriptions\n"
    listed = run("silence", "list", "-c", config).output
    assert "rule envoy-travel" in listed and "rule ceasefire" not in listed
    everything = run("silence", "list", "--all", "-c", config).output.splitlines()
    assert [line.split()[:3] for line in everything] == [
        ["2", "active", "rule"],
        ["1", "expired", "rule"],
    ]
    assert " ended " in everything[1]

    again = run("silence", "expire", "1", "-c", config)
    assert again.exit_code == 1 and "silence 1 had already ended at " in again.output
    unknown = run("silence", "expire", "99", "-c", config)
    assert unknown.exit_code == 1
    assert unknown.output == "no silence 99 (monitor silence list --all shows them)\n"


def test_no_silences(config):
    assert run("silence", "list", "-c", config).output == "no active silences\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--for", "2h", "--comment", "c"],
            "say what to silence: one of --rule, --story, --feed or --tag",
        ),
        (
            ["--rule", "ceasefire", "--tag", "x", "--for", "2h", "--comment", "c"],
            "say what to silence",
        ),
        (
            ["--rule", "ceasefire", "--comment", "c"],
            "say how long, for a duration (2h) or until a time",
        ),
        (
            ["--rule", "ceasefire", "--for", "2h", "--until", "2099-01-01", "--comment", "c"],
            "say how long",
        ),
        (
            ["--rule", "ceasefire", "--for", "2 hours", "--comment", "c"],
            "invalid duration '2 hours'",
        ),
        (
            ["--rule", "ceasefire", "--until", "2001-01-01", "--comment", "c"],
            "2001-01-01 is already past",
        ),
        (["--rule", "ceasefire", "--for", "2h", "--comment", "  "], "a comment is required"),
        (["--rule", "ceasefire", "--for", "2h"], "Missing option '--comment'"),
        (
            ["--rule", "ceasfire", "--for", "2h", "--comment", "c"],
            "silence: no rule 'ceasfire' (rules: ",
        ),
        (
            ["--tag", "mid-east", "--for", "2h", "--comment", "c"],
            "no rule and no feed has the tag 'mid-east'",
        ),
        (
            ["--feed", "https://other.example/rss", "--for", "2h", "--comment", "c"],
            "no feed 'https://other.example/rss'",
        ),
        (
            ["--rule", "ceasefire", "--subscription", "nobody", "--for", "2h", "--comment", "c"],
            "no subscription 'nobody' (subscriptions: cases, desk)",
        ),
        (["--story", "twelve", "--for", "2h", "--comment", "c"], "'twelve' is not a valid integer"),
        (["--rule", "ceasefire", "--for", "800d", "--comment", "c"], "at most 365 days"),
    ],
    ids=[
        "no scope",
        "two scopes",
        "no duration",
        "two durations",
        "bad duration",
        "past",
        "blank comment",
        "no comment",
        "unknown rule",
        "unknown tag",
        "unknown feed",
        "unknown subscription",
        "story not a number",
        "too long",
    ],
)
def test_usage_errors_exit_2_and_save_nothing(tmp_path, config, args, message):
    result = run("silence", "add", *args, "--author", "ana", "-c", config)
    assert result.exit_code == 2
    assert message in result.output
    assert run("silence", "list", "--all", "-c", config).output == "no silences\n"


def test_a_story_silence_by_its_digest_id(tmp_path, config):
    seed_alerts(tmp_path, ["ceasefire", "envoy-travel"])
    store = Store(f"sqlite:///{tmp_path}/monitor.db")
    [_, second] = store.alerts_after(0)
    store.close()
    story = str(second.story_id or -second.id)
    result = run(
        "silence", "add", "--story", story, "--for", "2h", "--comment", "c", "--author", "ana",
        "-c", config,
    )  # fmt: skip
    assert result.exit_code == 0
    assert result.output.startswith("would have hidden 1 alert in the last 7 days\n")
    assert "  envoy-travel  Truce 1 holds" in result.output
    assert f"saved: story {story} for all subscriptions" in result.output


def test_digest_preview_leaves_silenced_alerts_out(tmp_path, config):
    seed_alerts(tmp_path, ["ceasefire", "envoy-travel"])
    before = run("digest", "preview", "desk", "-c", config).output
    assert '"rule":"ceasefire"' in before and '"rule":"envoy-travel"' in before
    run(
        "silence",
        "add",
        "--rule",
        "ceasefire",
        "--for",
        "2h",
        "--comment",
        "c",
        "--author",
        "ana",
        "-c",
        config,
    )
    after = run("digest", "preview", "desk", "-c", config).output
    assert '"rule":"ceasefire"' not in after and '"rule":"envoy-travel"' in after
