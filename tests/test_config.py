import textwrap

import pytest

from monitor.config import load_config
from monitor.errors import ConfigError


def problems(write_config, text, environ=None):
    path = write_config(textwrap.dedent(text))
    with pytest.raises(ConfigError) as info:
        load_config(path, environ or {})
    return [f"{p.line}:{p.col}: {p.message}" for p in info.value.problems]


def test_minimal_config_resolves_paths_against_its_folder(write_config, tmp_path):
    config = load_config(write_config("feeds:\n  - url: https://example.org/rss\n"), {})
    assert config.database_url == f"sqlite:///{tmp_path}/monitor.db"
    assert config.rule_paths == (tmp_path / "rules/",)
    [feed] = config.feeds
    assert (
        feed.interval.total_seconds() == 600
        and feed.first_poll_max_age.total_seconds() == 48 * 3600
    )
    assert config.allow_private_networks is False and config.subscriptions == ()


def test_environment_wins_and_postgres_gets_our_driver(write_config):
    config = load_config(
        write_config("database: sqlite:///x.db\nfeeds: [{url: https://example.org/rss}]\n"),
        {"MONITOR_DATABASE_URL": "postgresql://postgres@127.0.0.1/test"},
    )
    assert config.database_url == "postgresql+psycopg://postgres@127.0.0.1/test"


def test_secrets_and_variables_come_from_the_environment(write_config):
    config = load_config(
        write_config(
            textwrap.dedent("""\
            feeds: [{url: "https://${HOST}/rss"}]
            smtp: {host: mail.example.org, password_env: SMTP_PASSWORD}
            subscriptions:
              - name: ops
                webhook: {url_env: SLACK_URL, format: slack, secret_env: HOOK_SECRET}
                rules: [ceasefire]
                schedule: daily 07:30 Europe/Berlin
        """)
        ),
        {
            "HOST": "news.example.org",
            "SMTP_PASSWORD": "pw",
            "SLACK_URL": "https://hooks.example.org/x",
            "HOOK_SECRET": "s",
        },
    )
    assert config.feeds[0].url == "https://news.example.org/rss"
    assert config.smtp.password == "pw"
    [sub] = config.subscriptions
    assert (sub.webhook.url, sub.webhook.format, sub.webhook.secret) == (
        "https://hooks.example.org/x",
        "slack",
        "s",
    )
    assert not sub.schedule.immediate


def test_every_problem_is_located(write_config):
    assert problems(
        write_config,
        """\
        feeds:
          - url: https://example.org/rss
            interval: 10x
        subscriptions:
          - name: desk
            email: desk@example.org
            rules: [ceasefire]
            schedule: weekly
          - name: chat
            webhook: {url: https://example.org/hook, format: telegram}
            rules: [ceasefire]
            colour: red
        """,
    ) == [
        "3:15: feeds.0.interval: invalid duration '10x' (expected a number and s, m, h, d or w, like 10m)",
        "8:15: subscriptions.0.schedule: invalid schedule 'weekly' (expected immediate, hourly, every 30m, "
        'daily 07:30 Europe/Berlin or cron "0 */4 * * *")',
        "10:54: subscriptions.1.webhook.format: unknown webhook format 'telegram' (known: discord, generic, mattermost, slack, teams)",
        "12:5: unknown key 'colour' in subscriptions.1",
        # what the rest of desk holds is checked too (its schedule left at the default)
        "6:12: an email subscription needs an smtp: section",
    ]


def test_semantic_problems(write_config):
    assert problems(
        write_config,
        """\
        feeds: [{url: https://example.org/rss}]
        subscriptions:
          - name: desk
            email: desk@example.org
            rules: [ceasefire]
          - name: desk
            webhook: {url_env: MISSING_URL}
            tags: [x]
        """,
    ) == [
        "4:12: an email subscription needs an smtp: section",
        "6:11: duplicate subscription name 'desk'",
        "7:24: environment variable MISSING_URL is not set",
    ]


def test_subscription_needs_one_target_and_a_filter(write_config):
    found = problems(
        write_config,
        """\
        feeds: [{url: https://example.org/rss}]
        subscriptions:
          - name: nothing
            schedule: hourly
        """,
    )
    assert found == [
        "3:5: subscriptions.0: subscription 'nothing' needs exactly one target: email or webhook"
    ]


def test_feeds_are_required_and_yaml_must_be_valid(write_config):
    assert problems(write_config, "database: sqlite:///x.db\n") == [
        "1:1: missing required key 'feeds' in top level"
    ]
    assert problems(write_config, "feeds: [\n")[0].startswith("2:1: invalid YAML")


def test_bad_secrets_and_tls_settings_fail_at_start(write_config):
    found = problems(
        write_config,
        """\
        feeds: [{url: https://example.org/rss}]
        smtp: {host: mail.example.org, starttls: true, tls: true}
        subscriptions:
          - name: cases
            webhook: {url: https://example.org/hook, secret_env: HOOK_SECRET}
            tags: [x]
        """,
        {"HOOK_SECRET": "whsec_not base64!"},
    )
    # the smtp: problem does not hide the secret's (every problem in one run)
    assert found == [
        "2:7: smtp: choose starttls (upgrade a plain connection) or tls (TLS from the start), not both",
        "5:58: HOOK_SECRET: webhook: secret after 'whsec_' is not valid base64",
    ]
    found = problems(
        write_config,
        """\
        feeds: [{url: https://example.org/rss}]
        subscriptions:
          - name: cases
            webhook: {url: https://example.org/hook, secret_env: HOOK_SECRET}
            tags: [x]
        """,
        {"HOOK_SECRET": "whsec_not base64!"},
    )
    assert found == ["4:58: HOOK_SECRET: webhook: secret after 'whsec_' is not valid base64"]


async def test_unknown_subscribed_rule_stops_the_start(write_config, tmp_path):
    from monitor.resources import rules_dir
    from monitor.worker.pipeline import open_runtime

    config = load_config(
        write_config(
            textwrap.dedent(f"""\
                rules: {rules_dir()}
                feeds: [{{url: https://example.org/rss}}]
                subscriptions:
                  - name: desk
                    webhook: {{url: https://example.org/hook}}
                    rules: [ceasefire, cease-fire, feed-health]
                """)
        ),
        {},
    )
    with pytest.raises(ConfigError) as info:
        async with open_runtime(config):
            pass
    [problem] = info.value.problems
    assert (problem.line, problem.col) == (6, 24)
    assert problem.message == "subscription 'desk': unknown rule 'cease-fire'"


def test_duplicate_feeds_and_hasty_intervals(write_config):
    assert problems(
        write_config,
        """\
        feeds:
          - url: https://example.org/rss
          - url: https://example.org/rss
            interval: 10s
        """,
    ) == [
        "4:15: feeds.1.interval: interval 10s is too short: poll a feed at most once a minute",
        "3:10: feed https://example.org/rss is listed twice (first as feeds.0)",
    ]
    assert problems(
        write_config,
        """\
        feeds:
          - url: https://example.org/rss
          - url: https://example.org/rss
        """,
    ) == ["3:10: feed https://example.org/rss is listed twice (first as feeds.0)"]


def test_email_addresses_must_be_addresses(write_config):
    found = problems(
        write_config,
        """\
        feeds: [{url: https://example.org/rss}]
        smtp: {host: localhost, from: "News <alerts@example.org>"}
        subscriptions:
          - {name: a, email: not-an-address, rules: [ceasefire]}
          - {name: b, email: ["desk@example.org", "x@example.org\\r\\nBcc: victim@example.org"], rules: [ceasefire]}
        """,
    )
    assert found[0].startswith("4:22: ") and "invalid email address 'not-an-address'" in found[0]
    assert (
        found[1].startswith("5:22: ")
        and "invalid email address 'x@example.org\\r\\nBcc:" in found[1]
    )


def test_the_example_config_loads_and_is_the_one_documented(tmp_path, dkim_private_key):
    import re
    import shutil

    from tests.conftest import REPO

    example = (REPO / "monitor.example.yaml").read_text()
    documented = (REPO / "docs" / "config.md").read_text().split("## A complete example")[1]
    block = re.search(r"```yaml\n(.*?)```", documented, re.S).group(1)
    # the file only adds a header of comments to the documented example
    assert example.endswith(block)

    shutil.copy(REPO / "monitor.example.yaml", tmp_path / "monitor.yaml")
    shutil.copytree(REPO / "rules", tmp_path / "rules")
    secrets = {
        name: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        for name in re.findall(r"\b([A-Z][A-Z0-9_]+_(?:URL|SECRET|PASSWORD|KEY))\b", example)
    }
    secrets["SLACK_WEBHOOK_URL"] = "https://hooks.slack.com/services/T/B/x"
    secrets["DKIM_PRIVATE_KEY"] = dkim_private_key
    config = load_config(tmp_path / "monitor.yaml", secrets)
    assert config.http is not None and config.http.public_url == "https://monitor.example.org"
    assert config.smtp is not None and config.smtp.dkim is not None
    assert {s.name for s in config.subscriptions} >= {"humanitarian-desk", "case-system"}


def test_schema_problems_hide_none_of_the_rest(write_config):
    found = problems(
        write_config,
        """\
        database: ${NOPE_DB}
        feeds:
          - url: https://example.org/rss
            interval: 10x
          - url: https://example.org/rss
          - {url: "https://${NOPE_HOST}/rss"}
        smtp: {host: mail.example.org, from: "not an address", unsubscribe_mailto: "x@@y"}
        subscriptions:
          - {name: a, email: desk@example.org, rules: [ceasefire], schedule: weekly}
          - {name: b, webhook: {url: "ftp://example.org/x"}, rules: [ceasefire]}
          - {name: b, webhook: {url_env: CHAT_URL}, rules: [ceasefire], colour: red}
          - {name: c, webhook: {url_env: CHAT_URL, format: slack}, rules: [ceasefire]}
          - {name: d, webhook: {url: "https://example.org/"}, tags: [x], schedule: "daily 07:30 Mars/Olympus"}
          - {name: e, webhook: {url: "https://exa mple.org/"}, tags: [x]}
        """,
        {"CHAT_URL": "hooks.slack.com/services/T/B/secret"},
    )
    assert found == [
        "1:11: environment variable NOPE_DB is not set",
        "6:11: environment variable NOPE_HOST is not set",
        "4:15: feeds.0.interval: invalid duration '10x' (expected a number and s, m, h, d or w, like 10m)",
        "9:70: subscriptions.0.schedule: invalid schedule 'weekly' (expected immediate, hourly, "
        'every 30m, daily 07:30 Europe/Berlin or cron "0 */4 * * *")',
        "11:65: unknown key 'colour' in subscriptions.2",
        "13:76: subscriptions.4.schedule: unknown time zone 'Mars/Olympus' (expected an IANA name like Europe/Berlin)",
        # the rest is checked too: the items in error without their keys in error
        "7:38: smtp.from: 'not an address' is not an email address (expected alerts@example.org or News Monitor <alerts@example.org>)",
        "7:76: smtp.unsubscribe_mailto: 'x@@y' is not an email address (expected alerts@example.org or News Monitor <alerts@example.org>)",
        "10:30: webhook url 'ftp://example.org/x' is not an http:// or https:// URL",
        "11:12: duplicate subscription name 'b'",
        # the URL of a chat webhook is a secret: never printed
        "11:34: CHAT_URL: the webhook URL is not an http:// or https:// URL",
        "12:34: CHAT_URL: the webhook URL is not an http:// or https:// URL",
        "14:30: webhook url 'https://exa mple.org/' holds spaces or control characters",
        "5:10: feed https://example.org/rss is listed twice (first as feeds.0)",
    ]


def test_a_local_sender_is_an_address(write_config):
    path = write_config(
        'feeds: [{url: "https://example.org/rss"}]\nsmtp: {host: localhost, from: "M <alerts@localhost>"}\n'
    )
    assert load_config(path, {}).smtp.sender == "M <alerts@localhost>"


def test_a_dkim_key_that_is_no_key_fails_at_start(write_config):
    path = write_config(
        textwrap.dedent(
            """\
            feeds: [{url: "https://example.org/rss"}]
            smtp:
              host: localhost
              dkim: {domain: example.org, selector: news, private_key_env: DKIM_KEY}
            """
        )
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, {"DKIM_KEY": "not a key"})
    assert str(caught.value).startswith(f"{path}:4:")
    assert "DKIM_KEY is not a PEM private key" in str(caught.value)
