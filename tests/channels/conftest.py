"""Digests built by hand from the models: the seed's three alerts, and a hostile one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.models import Alert, Digest, Figure, Hit, Match, Message

SEED_URL = "https://www.middleeasteye.net/news/un-syria-peace-envoy-travels-moscow"
SEED_TITLE = "UN Syria peace envoy travels to Moscow"
CREATED = datetime(2015, 10, 20, 7, 30, tzinfo=UTC)
PUBLISHED = datetime(2015, 10, 19, 18, 0, tzinfo=UTC)

DISPLACED = (
    "According to the UN, Russian strikes have displaced 40,000 people since they began on "
    "30 September."
)
WASHINGTON = (
    "The Italian-Swedish diplomat said he would travel on to Washington, which has also been "
    'carrying out airstrikes in Syria, "immediately after" his Moscow visit.'
)
CEASEFIRES = "Several local ceasefires were in place at the time Russia began its military strikes."

HOSTILE = (
    "Breaking\r\nX-Injected: 1 <script>alert(1)</script> <!channel> @everyone <@U123> "
    "[click](https://evil.example) **bold** ||spoiler||"
)


def _alert(alert_id: int, match: Match, **kw: object) -> Alert:
    fields: dict[str, object] = {
        "id": alert_id,
        "article_url": SEED_URL,
        "article_title": SEED_TITLE,
        "published": PUBLISHED,
        "site_name": "Middle East Eye",
        "match": match,
        "tags": ("mideast",),
    }
    fields.update(kw)
    return Alert(**fields)  # type: ignore[arg-type]


def seed_alerts() -> tuple[Alert, ...]:
    displacement = Match(
        rule="displacement-figures",
        title="New displacement figures",
        severity="high",
        figures=(Figure(40000, "40,000", "at least"),),
        snippets=(DISPLACED,),
        hits=(Hit("displac*", "displaced", 0, 41, 50),),
    )
    envoy = Match(
        rule="envoy-travel",
        title="Envoy travel",
        severity="medium",
        captures={"destination": ("Moscow", "Washington")},
        snippets=(WASHINGTON,),
        hits=(Hit("envoy", "diplomat", 0, 22, 30), Hit("travel*", "travel", 0, 48, 54)),
    )
    ceasefire = Match(
        rule="ceasefire",
        title="Ceasefire",
        severity="medium",
        snippets=(CEASEFIRES,),
        hits=(Hit("ceasefire*", "ceasefires", 0, 14, 24),),
    )
    return (
        _alert(
            1,
            displacement,
            tags=("mideast", "humanitarian"),
            previous_figures=(Figure(25000, "25,000"),),
        ),
        _alert(2, envoy),
        _alert(3, ceasefire),
    )


def seed_digest() -> Digest:
    return Digest(subscription="humanitarian-desk", alerts=seed_alerts(), created_at=CREATED)


def hostile_digest() -> Digest:
    match = Match(
        rule="ceasefire",
        title="Ceasefire",
        severity="medium",
        captures={"destination": ("<!here>",)},
        snippets=(HOSTILE,),
    )
    alert = _alert(9, match, article_title=HOSTILE, site_name="@here <b>site</b>")
    return Digest(subscription="ops-chat", alerts=(alert,), created_at=CREATED)


def make_message(subject: str = "News Monitor: 3 new alerts") -> Message:
    return Message(
        subject=subject,
        text="3 new alerts\n\n- New displacement figures: at least 40,000 (Middle East Eye)\n",
        html="<html><body><p>3 new alerts</p><ul><li>at least 40,000</li></ul></body></html>",
    )


@pytest.fixture
def digest() -> Digest:
    return seed_digest()


@pytest.fixture
def message() -> Message:
    return make_message()


@pytest.fixture
def hostile() -> Digest:
    return hostile_digest()


@pytest.fixture
def hostile_message() -> Message:
    return make_message(subject="Alert: " + HOSTILE)
