"""The channels by name: what the config's `webhook.format` may say, and how each renders.

Adding a chat service: write `channels/<name>.py` with a pure
`render(plan, envelope) -> Payload`, and add it below. Nothing here imports an SMTP or HTTP
client, so the config can validate channel settings without loading senders.
"""

from __future__ import annotations

from collections.abc import Callable

from monitor.channels import discord, mattermost, slack, teams, webhook
from monitor.channels.base import Envelope, Payload
from monitor.digest.plan import DigestPlan

Renderer = Callable[[DigestPlan, Envelope], Payload]

# webhook `format` -> its renderer; every format is sent as a signed POST (channels.http)
WEBHOOK_FORMATS: dict[str, Renderer] = {
    "generic": webhook.render,
    "slack": slack.render,
    "discord": discord.render,
    "teams": teams.render,
    "mattermost": mattermost.render,
}
