"""The generic webhook: the documented version 1 body, and Standard Webhooks signatures."""

from __future__ import annotations

import base64
import json
import time

import pytest
from pydantic import ValidationError

from monitor.channels.base import Envelope
from monitor.channels.webhook import (
    PAYLOAD_VERSION,
    WebhookModel,
    digest_payload,
    render,
    secret_key,
    sign,
    verify_signature,
)
from monitor.digest.plan import DigestPlan
from tests.channels.conftest import (
    DISPLACED,
    HOSTILE,
    REUTERS_URL,
    SEED_TITLE,
    SEED_URL,
    body_json,
    make_alert,
    plan_of,
)

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


# --- the body --------------------------------------------------------------------------------


def test_body_is_versioned_and_names_the_digest(seed: DigestPlan) -> None:
    body = digest_payload(seed)
    assert PAYLOAD_VERSION == 1
    assert body["version"] == 1
    assert body["type"] == "digest"
    assert body["subscription"] == "humanitarian-desk"
    assert body["created_at"] == "2015-10-20T07:30:00Z"
    assert body["subject"] == seed.subject
    assert set(body) == {
        "version",
        "type",
        "subscription",
        "created_at",
        "subject",
        "stories",
        "alerts",
    }


def test_stories_group_the_alerts(seed: DigestPlan) -> None:
    [story] = digest_payload(seed)["stories"]
    assert story == {
        "id": 1,
        "headline": SEED_TITLE,
        "url": SEED_URL,
        "severity": "high",
        "summary": "at least 40,000 displaced in Syria; envoy travel to Moscow, Washington; Ceasefire mentioned",
        "rules": ["displacement-figures", "envoy-travel", "ceasefire"],
        "outlets": [
            {"name": "Middle East Eye", "url": SEED_URL, "title": SEED_TITLE},
            {
                "name": "Reuters",
                "url": REUTERS_URL,
                "title": "UN envoy heads to Moscow for Syria talks",
            },
        ],
        "alerts": [1, 2, 3, 4],
    }


def test_alerts_are_listed_one_by_one_in_the_replay_shape(seed: DigestPlan) -> None:
    alerts = digest_payload(seed)["alerts"]
    assert [a["id"] for a in alerts] == [1, 2, 3, 4]
    assert [a["rule"] for a in alerts] == [
        "displacement-figures",
        "envoy-travel",
        "ceasefire",
        "ceasefire",
    ]
    assert alerts[0] == {
        "id": 1,
        "rule": "displacement-figures",
        "title": "New displacement figures",
        "severity": "high",
        "story": 1,
        "article": {
            "url": SEED_URL,
            "title": SEED_TITLE,
            "published": "2015-10-19T18:00:00Z",
            "site_name": "Middle East Eye",
        },
        "figures": [
            {"value": 40000, "text": "40,000", "qualifier": "at least", "approximate": False}
        ],
        "captures": {},
        "snippets": [DISPLACED],
        "hits": [{"term": "displac*", "text": "displaced", "snippet": 0, "start": 41, "end": 50}],
        "summary": "at least 40,000 displaced in Syria",
        "previous_figures": [
            {
                "value": 25000,
                "text": "25,000",
                "qualifier": None,
                "approximate": False,
                "reported": "2015-10-02T00:00:00+00:00",
            }
        ],
        "tags": ["mideast", "humanitarian"],
    }
    assert alerts[1]["captures"] == {"destination": ["Moscow", "Washington"]}
    assert alerts[3]["article"]["site_name"] == "Reuters"


def test_data_passes_through_unescaped_but_only_http_links() -> None:
    alert = make_alert(
        1, headline=HOSTILE, site=HOSTILE, url="javascript:alert(1)", snippets=(HOSTILE,)
    )
    body = digest_payload(plan_of([alert]))
    [story], [item] = body["stories"], body["alerts"]
    assert story["headline"] == HOSTILE  # JSON: escaping is the receiver's business
    assert item["snippets"] == [HOSTILE]
    assert item["article"]["site_name"] == HOSTILE
    assert story["url"] is None and item["article"]["url"] is None
    assert story["outlets"][0]["url"] is None


def test_render_sends_the_body_as_compact_json(seed: DigestPlan) -> None:
    payload = render(seed, Envelope("msg_1"))
    assert payload.content_type == "application/json"
    assert payload.subject == seed.subject
    assert body_json(payload.body) == digest_payload(seed)
    assert payload.body == json.dumps(
        digest_payload(seed), ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")
    assert render(seed, Envelope("msg_2", more_url="https://x.example/d")) == payload


def test_a_naive_publication_time_is_taken_as_utc() -> None:
    from datetime import datetime

    body = digest_payload(plan_of([make_alert(1, published=datetime(2015, 10, 19, 18, 0))]))
    assert body["alerts"][0]["article"]["published"] == "2015-10-19T18:00:00Z"


# --- signatures ------------------------------------------------------------------------------


def test_standard_webhooks_reference_vector() -> None:
    # the example of the Standard Webhooks specification and its reference libraries
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    msg_id, timestamp = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330
    body = b'{"test": 2432232314}'
    assert (
        sign(secret, msg_id, timestamp, body) == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


@pytest.mark.parametrize(
    ("secret", "key"),
    [
        ("whsec_" + base64.b64encode(b"key bytes").decode(), b"key bytes"),
        ("not-base64 secret ✓", "not-base64 secret ✓".encode()),
        ("whsec", b"whsec"),
    ],
    ids=["whsec-base64", "raw-utf8", "prefix-only-word"],
)
def test_secret_key(secret: str, key: bytes) -> None:
    assert secret_key(secret) == key


@pytest.mark.parametrize(
    ("secret", "message"),
    [("whsec_not*base64", "not valid base64"), ("whsec_", "empty secret"), ("", "empty secret")],
    ids=["bad-base64", "empty-after-prefix", "empty"],
)
def test_bad_secrets_are_configuration_errors(secret: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        secret_key(secret)


def signed(body: bytes, msg_id: str = "msg_1", secret: str = SECRET) -> dict[str, str]:
    timestamp = int(time.time())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def test_a_genuine_signature_verifies() -> None:
    body = b'{"version":1}'
    headers = signed(body)
    assert verify_signature(SECRET, headers, body)
    assert verify_signature(SECRET, {k.upper(): v for k, v in headers.items()}, body)


def test_raw_and_whsec_forms_of_the_same_key_agree() -> None:
    raw = "not-base64 secret ✓"
    body = b"{}"
    headers = signed(body, secret=raw)
    assert verify_signature(raw, headers, body)
    assert verify_signature("whsec_" + base64.b64encode(raw.encode()).decode(), headers, body)


def test_forgeries_are_refused() -> None:
    body = b'{"figures":[40000]}'
    headers = signed(body)
    other = "whsec_" + base64.b64encode(b"another secret of 32 bytes long!").decode()
    assert not verify_signature(other, headers, body)
    assert not verify_signature(SECRET, headers, body.replace(b"40000", b"40001"))
    assert not verify_signature(SECRET, {**headers, "webhook-id": "msg_2"}, body)
    stamp = str(int(headers["webhook-timestamp"]) + 1)
    assert not verify_signature(SECRET, {**headers, "webhook-timestamp": stamp}, body)
    assert not verify_signature(SECRET, {**headers, "webhook-signature": "v2,abc"}, body)
    for missing in headers:
        assert not verify_signature(
            SECRET, {k: v for k, v in headers.items() if k != missing}, body
        )
    assert not verify_signature(SECRET, {**headers, "webhook-timestamp": "soon"}, body)


def test_stale_or_future_timestamps_are_refused_within_tolerance() -> None:
    body = b"{}"
    for offset in (-3600, 3600):
        stamp = int(time.time()) + offset
        headers = {
            "webhook-id": "msg_1",
            "webhook-timestamp": str(stamp),
            "webhook-signature": sign(SECRET, "msg_1", stamp, body),
        }
        assert not verify_signature(SECRET, headers, body)
        assert verify_signature(SECRET, headers, body, tolerance=7200)


def test_any_of_several_signatures_may_match() -> None:
    body = b"{}"
    headers = signed(body)
    rotated = f"v1,bm9wZQ== {headers['webhook-signature']} v1a,xyz"
    assert verify_signature(SECRET, {**headers, "webhook-signature": rotated}, body)


# --- settings --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["generic", "slack", "discord", "teams", "mattermost"])
def test_webhook_settings_accept_every_registered_format(fmt: str) -> None:
    model = WebhookModel(url="https://hooks.example/x", format=fmt)
    assert model.format == fmt and model.secret_env is None


def test_webhook_settings_refuse_an_unknown_format() -> None:
    with pytest.raises(
        ValidationError,
        match=r"unknown webhook format 'irc' \(known: discord, generic, mattermost, slack, teams\)",
    ):
        WebhookModel(url="https://hooks.example/x", format="irc")


@pytest.mark.parametrize(
    "fields",
    [{}, {"url": "https://hooks.example/x", "url_env": "HOOK_URL"}],
    ids=["neither", "both"],
)
def test_webhook_settings_need_exactly_one_url(fields: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="exactly one of url or url_env"):
        WebhookModel(**fields)


def test_webhook_settings_refuse_unknown_keys() -> None:
    with pytest.raises(ValidationError):
        WebhookModel(url="https://hooks.example/x", secret="inline secrets are not allowed")  # type: ignore[call-arg]
