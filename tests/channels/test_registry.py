"""The webhook formats by name: each a pure renderer of the exact JSON bytes to send."""

from __future__ import annotations

import pytest

from monitor.channels import discord, mattermost, slack, teams, webhook
from monitor.channels.base import Envelope
from monitor.channels.registry import WEBHOOK_FORMATS
from monitor.digest.plan import DigestPlan
from tests.channels.conftest import body_json, seed_plan


def test_the_registered_formats() -> None:
    assert WEBHOOK_FORMATS == {
        "generic": webhook.render,
        "slack": slack.render,
        "discord": discord.render,
        "teams": teams.render,
        "mattermost": mattermost.render,
    }


@pytest.mark.parametrize("fmt", sorted(WEBHOOK_FORMATS))
def test_every_format_renders_json_deterministically(fmt: str, seed: DigestPlan) -> None:
    render = WEBHOOK_FORMATS[fmt]
    payload = render(seed, Envelope("msg_1"))
    assert payload.content_type == "application/json"
    assert payload.subject == seed.subject
    assert isinstance(body_json(payload.body), dict)
    # pure: the same plan gives the same bytes (a retry sends what was stored)
    assert render(seed_plan(), Envelope("msg_1")).body == payload.body
    # the envelope's key is not part of the body: the sender puts it in webhook-id
    assert render(seed, Envelope("msg_2")).body == payload.body
