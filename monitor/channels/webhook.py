"""The generic webhook: a documented, versioned JSON body, signed per Standard Webhooks.

Signing (https://www.standardwebhooks.com/): the secret is written `whsec_<base64>` and the
base64 part is the HMAC key (a secret without the prefix is used as its UTF-8 bytes). Every
request carries `webhook-id` (the delivery's idempotency key, the same on every retry, so a
receiver can drop repeats), `webhook-timestamp` (unix seconds) and, with a secret,
`webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`. The body is stored
in the outbox, so a retry signs the same bytes again with a fresh timestamp.

This module owns the `webhook:` settings of a subscription (every format shares them) and
imports no HTTP client: `monitor.channels.http` sends.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any

from pydantic import field_validator, model_validator

from monitor.channels.base import Envelope, Payload, isoformat_utc, json_payload, safe_url
from monitor.codec import figure_to_json, match_to_json
from monitor.digest.plan import DigestPlan, Story
from monitor.models import Alert
from monitor.yamlsrc import StrictModel

__all__ = [
    "PAYLOAD_VERSION",
    "WebhookModel",
    "render",
    "secret_key",
    "sign",
    "verify_signature",
]

# Bump only with a documented, breaking change of the body; receivers switch on it.
PAYLOAD_VERSION = 1
SECRET_PREFIX = "whsec_"


class WebhookModel(StrictModel):
    """A subscription's `webhook:` block."""

    url: str | None = None
    url_env: str | None = None
    format: str = "generic"
    secret_env: str | None = None

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        from monitor.channels.registry import WEBHOOK_FORMATS

        if value not in WEBHOOK_FORMATS:
            known = ", ".join(sorted(WEBHOOK_FORMATS))
            raise ValueError(f"unknown webhook format '{value}' (known: {known})")
        return value

    @model_validator(mode="after")
    def _one_url(self) -> WebhookModel:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("a webhook needs exactly one of url or url_env")
        return self


def _alert_dict(alert: Alert) -> dict[str, Any]:
    match = match_to_json(alert.match)
    return {
        "id": alert.id,
        "rule": match.pop("rule"),
        "title": match.pop("title"),
        "severity": match.pop("severity"),
        "story": alert.story_id,
        "article": {
            "url": safe_url(alert.article_url),  # only http(s) links are ever sent
            "title": alert.article_title,
            "published": isoformat_utc(alert.published),
            "site_name": alert.site_name,
        },
        **match,  # figures, captures, snippets, hits: the same shape as `replay --json`
        "previous_figures": [figure_to_json(f) for f in alert.previous_figures],
        "tags": list(alert.tags),
    }


def _story_dict(story: Story) -> dict[str, Any]:
    return {
        "id": story.id,
        "headline": story.headline,
        "url": safe_url(story.url),
        "severity": story.severity,
        "summary": story.summary,
        "rules": list(story.rules),
        "outlets": [
            {"name": o.name, "url": safe_url(o.url), "title": o.title} for o in story.outlets
        ],
        "alerts": list(story.alert_ids),
    }


def digest_payload(plan: DigestPlan) -> dict[str, Any]:
    """The documented generic webhook body (version 1).

    Data is passed through unescaped: it is JSON, and escaping is the receiver's business.
    Field names follow `monitor replay --json` so one parser reads both. `stories` groups the
    alerts (each story once, most severe first); `alerts` lists them one by one.
    """
    return {
        "version": PAYLOAD_VERSION,
        "type": "digest",
        "subscription": plan.subscription,
        "created_at": isoformat_utc(plan.created_at),
        "subject": plan.subject,
        "stories": [_story_dict(s) for s in plan.stories],
        "alerts": [_alert_dict(a) for s in plan.stories for a in s.alerts],
    }


def render(plan: DigestPlan, envelope: Envelope) -> Payload:
    return json_payload(plan.subject, digest_payload(plan))


def secret_key(secret: str) -> bytes:
    """The HMAC key of a secret: base64-decoded after `whsec_`, else the string's UTF-8 bytes.

    Raises ValueError for a `whsec_` secret that is not valid base64 (a configuration error).
    """
    if secret.startswith(SECRET_PREFIX):
        try:
            key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("webhook: secret after 'whsec_' is not valid base64") from exc
    else:
        key = secret.encode("utf-8")
    if not key:
        raise ValueError("webhook: empty secret")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value for one message: `v1,<base64 HMAC-SHA256>`."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def verify_signature(
    secret: str, headers: Mapping[str, str], body: bytes, *, tolerance: int = 300
) -> bool:
    """True when `body` was signed with `secret` less than `tolerance` seconds from now.

    `headers` may be any mapping (case-insensitive or not); `body` must be the raw bytes as
    received. Any one of several space-separated signatures may match (key rotation).
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    msg_id = lowered.get("webhook-id")
    stamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not msg_id or not stamp or not signatures:
        return False
    try:
        timestamp = int(stamp)
    except ValueError:
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = sign(secret, msg_id, timestamp, body).encode("ascii")
    return any(
        candidate.startswith("v1,") and hmac.compare_digest(candidate.encode(), expected)
        for candidate in signatures.split()
    )
