"""The whole digest behind a chat message's "…and N more stories": the Slack message links to
a signed page of the worker's web endpoint, which shows every story of that delivery."""

from __future__ import annotations

import json
from dataclasses import replace

import aiohttp
import pytest

from monitor.config import load_config
from monitor.digest.plan import SubscriptionPlan
from monitor.digest.render import make_environment
from monitor.resources import rules_dir
from monitor.web.app import make_app, serving
from monitor.web.tokens import digest_url, make_token
from monitor.worker.deliver import render_plan
from monitor.worker.pipeline import open_runtime, run_cycle
from tests.channels.conftest import hostile_plan
from tests.web.test_unsubscribe import SECRET, free_port

SLACK = """\
  - name: ops-chat
    webhook: {{url: "{url}/hooks/slack", format: slack}}
    rules: [displacement-figures, envoy-travel, ceasefire]
"""


@pytest.fixture
def slack_config(seed_site, webhook_sink, write_config, environ):
    port = free_port()
    text = f"""\
database: sqlite:///monitor.db
rules: {rules_dir()}
allow_private_networks: true
feeds: [{{url: "{seed_site}/rss"}}]
http: {{listen: "127.0.0.1:{port}", public_url: "http://127.0.0.1:{port}"}}
subscriptions:
{SLACK.format(url=webhook_sink.url)}"""
    environ["MONITOR_SECRET_KEY"] = SECRET
    return load_config(write_config(text), environ)


def test_a_slack_message_past_its_limits_links_the_whole_digest(slack_config):
    [sub] = slack_config.subscriptions
    plan = hostile_plan(50)
    [delivery] = render_plan(
        slack_config, make_environment(), sub, SubscriptionPlan(sub.name, (plan,), 50, ())
    )
    body = json.loads(delivery.body)
    url = digest_url(slack_config.http.public_url, SECRET.encode(), delivery.key)
    last = json.dumps(body["blocks"][-1])
    assert "more stories" in last and url in last


async def test_the_digest_page_shows_the_delivery_and_refuses_other_tokens(
    slack_config, webhook_sink
):
    async with open_runtime(slack_config) as rt:
        await run_cycle(rt)
        [hook] = webhook_sink.hooks
        key = hook.headers["webhook-id"]
        public, http_config = slack_config.http.public_url, slack_config.http
        page_url = digest_url(public, SECRET.encode(), key)
        headline = rt.store.alerts_after(0)[0].article_title
        app = make_app(slack_config, rt.store)
        async with (
            serving(app, http_config.host, http_config.port) as base,
            aiohttp.ClientSession() as http,
        ):
            async with http.get(page_url) as response:
                page = await response.text()
                assert response.status == 200
                assert response.headers["Referrer-Policy"] == "no-referrer"
            assert headline in page
            for title in ("New displacement figures", "Envoy travel", "Ceasefire mentioned"):
                assert title in page

            # an unsubscribe token, another secret's token, a key that was never sent: 404
            for token in (
                make_token(SECRET.encode(), "ops-chat", "webhook"),
                digest_url(public, b"another secret", key).rsplit("/", 1)[1],
                digest_url(public, SECRET.encode(), "msg_never_sent").rsplit("/", 1)[1],
            ):
                async with http.get(f"{base}/digest/{token}") as response:
                    assert response.status == 404


def test_no_public_url_means_no_link(slack_config):
    config = replace(slack_config, http=replace(slack_config.http, public_url=None))
    [sub] = config.subscriptions
    [delivery] = render_plan(
        config, make_environment(), sub, SubscriptionPlan(sub.name, (hostile_plan(50),), 50, ())
    )
    assert "/digest/" not in delivery.body.decode()
