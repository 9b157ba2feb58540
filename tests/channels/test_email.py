"""Email: a digest composed as the exact RFC 5322 bytes sent to one recipient, with list
headers for one-click unsubscribe and, when configured, a DKIM signature."""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage

import dkim
import pytest
from pydantic import ValidationError

from monitor.channels.base import Envelope, Payload
from monitor.channels.email import (
    DkimSettings,
    SmtpModel,
    SmtpSettings,
    compose,
    message_id,
)
from monitor.digest.plan import DigestPlan
from monitor.digest.render import make_environment, render_digest
from monitor.models import Message
from monitor.web.tokens import unsubscribe_url
from tests.channels.conftest import HOSTILE, make_alert, plan_of
from tests.channels.dkimkey import RsaKey, make_rsa_key

SETTINGS = SmtpSettings(host="127.0.0.1", sender="News Monitor <alerts@example.org>")
DESK = "desk@example.org"
KEY = "msg_6f1c2e0b9d8a4f7e8c3b2a1d0e9f8a7b"
# the link the worker makes: long enough that default header folding would encode it
UNSUBSCRIBE = unsubscribe_url(
    "https://monitor.example.org", b"secret", "humanitarian-desk", DESK, "dig_0123456789abcdef"
)
MAILTO = (
    "mailto:unsubscribe@example.org?subject=unsubscribe%20humanitarian-desk%20desk%40example.org"
)


def build(
    plan: DigestPlan,
    envelope: Envelope | None = None,
    message: Message | None = None,
    settings: SmtpSettings = SETTINGS,
    recipient: str = DESK,
) -> Payload:
    envelope = envelope or Envelope(KEY, unsubscribe_url=UNSUBSCRIBE, unsubscribe_mailto=MAILTO)
    message = message or render_digest(
        make_environment(), plan, unsubscribe_url=envelope.unsubscribe_url
    )
    return compose(plan, envelope, message, settings=settings, recipient=recipient)


def parse(data: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def raw_header(data: bytes, name: str) -> str:
    """A header as written on the wire, unfolded (continuation lines joined)."""
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    line = r"[^\r\n]*"
    found = re.findall(rf"^{name}:({line}(?:\r\n[ \t]{line})*)", head, flags=re.M | re.I)
    assert len(found) == 1, (name, found)
    return re.sub(r"\r\n[ \t]", " ", found[0]).strip()


# --- the message -----------------------------------------------------------------------------


def test_headers_of_the_seed_digest(seed: DigestPlan) -> None:
    payload = build(seed)
    assert payload.content_type == "message/rfc822"
    mail = parse(payload.body)
    assert payload.subject == mail["Subject"] == seed.subject
    assert mail["From"] == "News Monitor <alerts@example.org>"
    assert mail["To"] == DESK
    assert mail["Date"] == "Tue, 20 Oct 2015 07:30:00 +0000"  # the digest's time, not the send's
    assert mail["Message-ID"] == f"<{KEY}@news-monitor>"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["List-Id"] == "humanitarian-desk <humanitarian-desk.news-monitor>"
    assert mail["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>, <{MAILTO}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["Bcc"] is None and mail["Cc"] is None


def test_the_body_is_plain_text_then_inlined_html(seed: DigestPlan) -> None:
    message = render_digest(make_environment(), seed)
    mail = parse(build(seed, message=message).body)
    assert mail.get_content_type() == "multipart/alternative"
    text, html = mail.iter_parts()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert text.get_content().replace("\r\n", "\n") == message.text
    assert "at least 40,000" in text.get_content()
    html_text = html.get_content()
    assert "at least 40,000" in html_text
    assert 'style="' in html_text  # rules moved onto the elements
    [style] = re.findall(r"<style[^>]*>(.*?)</style>", html_text, flags=re.S)
    assert "@media (prefers-color-scheme: dark)" in style  # at-rules stay in the block
    assert style.strip().startswith("@media") and "max-width: 680px" not in style
    assert "max-width: 680px" in html_text  # the .wrap rule, now on its element


def test_lines_end_in_crlf_and_stay_short(seed: DigestPlan) -> None:
    data = build(seed).body
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert max(len(line) for line in data.split(b"\r\n")) <= 998  # RFC 5322's hard limit


def test_the_same_key_gives_the_same_message_id(seed: DigestPlan) -> None:
    first, again = parse(build(seed).body), parse(build(seed).body)
    other = parse(build(seed, Envelope("msg_other")).body)
    assert first["Message-ID"] == again["Message-ID"] == f"<{KEY}@news-monitor>"
    assert other["Message-ID"] == "<msg_other@news-monitor>"
    assert (first["Date"], first["Subject"]) == (again["Date"], again["Subject"])


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("msg_42", "<msg_42@news-monitor>"),
        ("9f1c2e.3", "<9f1c2e.3@news-monitor>"),
        ("a b<c>@d", "<a%20b%3Cc%3E%40d@news-monitor>"),
        (".lead..dots", "<%2Elead%2E%2Edots@news-monitor>"),
        ("trail.", "<trail%2E@news-monitor>"),
        ("ünï\r\n", "<%C3%BCn%C3%AF%0D%0A@news-monitor>"),
    ],
    ids=["plain", "dot", "unsafe-chars", "bad-dots", "trailing-dot", "non-ascii-and-crlf"],
)
def test_message_id_encoding(key: str, expected: str) -> None:
    assert message_id(key) == expected


def test_an_empty_key_is_a_bug() -> None:
    with pytest.raises(ValueError, match="empty idempotency key"):
        message_id("")


# --- subjects --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Alert\r\nBcc: victim@example.org\r\n\r\nbody", "Alert Bcc: victim@example.org body"),
        ("Ünïcode ‹digest› 40 000", "Ünïcode ‹digest› 40 000"),
        (" \r\n ", "News Monitor digest"),
        ("x" * 400, "x" * 249 + "…"),
    ],
    ids=["crlf-injection", "non-ascii", "blank", "long"],
)
def test_the_subject_is_one_line(seed: DigestPlan, subject: str, expected: str) -> None:
    payload = build(seed, message=Message(subject, "text", "<p>html</p>"))
    mail = parse(payload.body)
    assert mail["Subject"] == payload.subject == expected
    assert mail["Bcc"] is None
    assert len(mail.get_all("Subject") or []) == 1


def test_a_hostile_digest_adds_no_header(seed: DigestPlan) -> None:
    plan = plan_of([make_alert(1, headline=HOSTILE, site=HOSTILE, snippets=(HOSTILE,))])
    mail = parse(build(plan).body)
    assert mail["Bcc"] is None
    assert "<script>" not in mail.get_body(("html",)).get_content()  # type: ignore[union-attr]


# --- list headers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "mailto", "unsubscribe", "post"),
    [
        (UNSUBSCRIBE, MAILTO, f"<{UNSUBSCRIBE}>, <{MAILTO}>", "List-Unsubscribe=One-Click"),
        (UNSUBSCRIBE, None, f"<{UNSUBSCRIBE}>", "List-Unsubscribe=One-Click"),
        (None, MAILTO, f"<{MAILTO}>", None),
        ("http://monitor.example/u/t", None, "<http://monitor.example/u/t>", None),
        (None, None, None, None),
    ],
    ids=[
        "https-and-mailto",
        "https-only",
        "mailto-only-no-one-click",
        "plain-http-no-one-click",
        "none",
    ],
)
def test_list_unsubscribe(
    seed: DigestPlan, url: str | None, mailto: str | None, unsubscribe: str | None, post: str | None
) -> None:
    envelope = Envelope(KEY, unsubscribe_url=url, unsubscribe_mailto=mailto)
    mail = parse(build(seed, envelope).body)
    assert mail["List-Unsubscribe"] == unsubscribe
    assert mail["List-Unsubscribe-Post"] == post
    assert mail["List-Id"] == "humanitarian-desk <humanitarian-desk.news-monitor>"


def test_list_headers_are_written_verbatim_not_encoded(seed: DigestPlan) -> None:
    """A mail client reads `<https://...>` from the raw header: an RFC 2047 encoded-word
    there is no URL at all, so long URLs are folded between items, never encoded."""
    assert len(UNSUBSCRIBE) > 100
    data = build(seed).body
    header = raw_header(data, "List-Unsubscribe")
    assert "=?" not in header
    assert header == f"<{UNSUBSCRIBE}>, <{MAILTO}>"
    assert raw_header(data, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"

    long_name = "humanitarian-desk-middle-east-and-north-africa-displacement-and-ceasefires"
    data = build(plan_of([make_alert(1)], name=long_name)).body
    assert raw_header(data, "List-Id") == f"{long_name} <{long_name}.news-monitor>"


def test_a_short_list_header_stays_on_one_line(seed: DigestPlan) -> None:
    data = build(seed, Envelope(KEY, unsubscribe_mailto="mailto:u@example.org")).body
    assert b"\r\nList-Unsubscribe: <mailto:u@example.org>\r\n" in data


@pytest.mark.parametrize("field", ["unsubscribe_url", "unsubscribe_mailto"], ids=["url", "mailto"])
def test_a_line_break_in_an_unsubscribe_link_cannot_add_headers(
    seed: DigestPlan, field: str
) -> None:
    envelope = Envelope(KEY, **{field: "https://ex.org/u\r\nBcc: victim@example.org"})
    with pytest.raises(ValueError, match="linefeed or carriage return"):
        build(seed, envelope, Message("s", "t", "<p>h</p>"))


# --- DKIM ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_key() -> RsaKey:
    return make_rsa_key()


def dkim_settings(key: RsaKey) -> SmtpSettings:
    return SmtpSettings(
        host="127.0.0.1",
        sender="News Monitor <alerts@example.org>",
        dkim=DkimSettings(domain="example.org", selector="news", private_key=key.private_pem),
    )


def dns_of(key: RsaKey, asked: list[bytes] | None = None):  # type: ignore[no-untyped-def]
    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        if asked is not None:
            asked.append(name)
        return key.dns_record if name == b"news._domainkey.example.org." else None

    return lookup


def signature_tags(data: bytes) -> dict[str, str]:
    value = raw_header(data, "DKIM-Signature")
    tags = (tag.split("=", 1) for tag in value.replace(" ", "").split(";") if tag)
    return {name: text for name, text in tags}


def test_a_signed_message_verifies_against_its_dns_key(seed: DigestPlan, rsa_key: RsaKey) -> None:
    data = build(seed, settings=dkim_settings(rsa_key)).body
    assert data.startswith(b"DKIM-Signature: ")
    asked: list[bytes] = []
    assert dkim.verify(data, dnsfunc=dns_of(rsa_key, asked))
    assert asked == [b"news._domainkey.example.org."]
    tags = signature_tags(data)
    assert (tags["d"], tags["s"], tags["a"]) == ("example.org", "news", "rsa-sha256")
    signed = tags["h"].lower().split(":")
    # RFC 8058: one-click needs both list headers under the signature
    for name in (
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "list-unsubscribe",
        "list-unsubscribe-post",
    ):
        assert name in signed
    assert parse(data)["Message-ID"] == f"<{KEY}@news-monitor>"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            b"List-Unsubscribe: <https://monitor.example.org",
            b"List-Unsubscribe: <https://evil.example.org",
        ),
        (b"at least 40,000", b"at least 90,000"),
        (b"Subject: 1 story", b"Subject: 2 story"),
    ],
    ids=["unsubscribe-link", "body", "subject"],
)
def test_a_changed_message_fails_verification(
    seed: DigestPlan, rsa_key: RsaKey, old: bytes, new: bytes
) -> None:
    data = build(seed, settings=dkim_settings(rsa_key)).body
    assert old in data
    assert not dkim.verify(data.replace(old, new, 1), dnsfunc=dns_of(rsa_key))


def test_an_added_one_click_header_fails_verification(rsa_key: RsaKey) -> None:
    # signed while absent, so a relay cannot add one-click to a message that had none
    plan = plan_of([make_alert(1)])
    data = build(
        plan, Envelope(KEY, unsubscribe_mailto=MAILTO), settings=dkim_settings(rsa_key)
    ).body
    assert dkim.verify(data, dnsfunc=dns_of(rsa_key))
    forged = data.replace(
        b"\r\nMIME-Version:",
        b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\nMIME-Version:",
        1,
    )
    assert not dkim.verify(forged, dnsfunc=dns_of(rsa_key))


def test_without_a_key_nothing_is_signed(seed: DigestPlan) -> None:
    assert b"DKIM-Signature" not in build(seed).body


# --- settings --------------------------------------------------------------------------------


def test_smtp_section_defaults_and_alias() -> None:
    model = SmtpModel(host="mail.example.org", **{"from": "Desk <desk@example.org>"})  # type: ignore[arg-type]
    assert (model.port, model.starttls, model.tls, model.timeout) == (25, False, False, 30.0)
    assert model.from_ == "Desk <desk@example.org>"
    assert model.dkim is None


def test_starttls_and_tls_exclude_each_other() -> None:
    with pytest.raises(ValidationError, match="choose starttls"):
        SmtpModel(host="h", starttls=True, tls=True)
    with pytest.raises(ValueError, match="exclude each other"):
        SmtpSettings(host="h", starttls=True, use_tls=True)


@pytest.mark.parametrize(
    "fields",
    [
        {"port": 0},
        {"port": 70000},
        {"timeout": 0},
        {"dkim": {"domain": "exa mple.org", "selector": "s", "private_key_env": "K"}},
        {"dkim": {"domain": "example.org", "selector": "s;x", "private_key_env": "K"}},
        {"password": "inline secrets are not allowed"},
    ],
    ids=["port-zero", "port-high", "timeout", "dkim-domain", "dkim-selector", "unknown-key"],
)
def test_smtp_section_refuses(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SmtpModel(host="h", **fields)  # type: ignore[arg-type]
