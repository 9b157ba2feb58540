"""Notifiers: deliver rendered digests by email or webhook (generic JSON or a chat service).

Each webhook format lives in its own module and registers its body builder in
`WEBHOOK_FORMATS`; importing it below is the one line that makes a format available.
"""

from __future__ import annotations

# format modules: imported for their `@register_format` side effect
from monitor.channels import discord, mattermost, slack, teams  # noqa: F401
from monitor.channels.base import WEBHOOK_FORMATS, Notifier, digest_payload, register_format
from monitor.channels.email import EmailNotifier, SmtpSettings
from monitor.channels.null import RecordingNotifier
from monitor.channels.webhook import WebhookNotifier, verify_signature

__all__ = [
    "WEBHOOK_FORMATS",
    "EmailNotifier",
    "Notifier",
    "RecordingNotifier",
    "SmtpSettings",
    "WebhookNotifier",
    "digest_payload",
    "register_format",
    "verify_signature",
]
