"""Digest plans for the channel tests, built the way the worker builds them: Alert objects
(monitor.models) grouped by the real planner (`plan_subscription`).

`seed_plan()` is the seed story (three rules on one Middle East Eye article, carried by a second
outlet too); `hostile_plan()` is a busy day of stories whose every untrusted string tries to
ping, link, format or break lines in every chat service.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from monitor.digest.plan import DigestPlan, plan_subscription
from monitor.models import Alert, Figure, Hit, Match

CREATED = datetime(2015, 10, 20, 7, 30, tzinfo=UTC)
PUBLISHED = datetime(2015, 10, 19, 18, 0, tzinfo=UTC)

SEED_URL = "https://www.middleeasteye.net/news/un-syria-peace-envoy-travels-moscow"
SEED_TITLE = "UN Syria peace envoy travels to Moscow"
REUTERS_URL = "https://www.reuters.com/article/syria-envoy-moscow"
DISPLACED = (
    "According to the UN, Russian strikes have displaced 40,000 people since they began on "
    "30 September."
)
WASHINGTON = (
    "The Italian-Swedish diplomat said he would travel on to Washington, which has also been "
    'carrying out airstrikes in Syria, "immediately after" his Moscow visit.'
)
CEASEFIRES = "Several local ceasefires were in place at the time Russia began its military strikes."

# Everything a chat service could take for a mention, a link, formatting or a new line.
HOSTILE = (
    "@channel <!here> @everyone <@123> <@U0123ABC> <!channel> <#C024BE7LR> <@&987> @here @all "
    "**bold** __under__ ~~gone~~ ||spoiler|| `code` # Heading\r\n> quote [click](https://evil.example) "
    "![img](https://evil.example/x.png) <https://evil.example|click> <at>Alice</at> "
    "<script>alert(1)</script> &amp; & \\ \u2028\r\nBcc: victim@example.org\u202e"
)

# Every form of mention the chat formats must neutralise, as the services parse them.
MENTION_PATTERNS = (
    r"@(?=\w)",  # @everyone, @here, @channel, @all, @alice
    r"<[@!#]",  # Slack <!here> <@U1> <#C1>, Discord <@123> <@&1> <#1>
    r"<at>",  # Teams
)


def make_alert(
    alert_id: int,
    *,
    rule: str = "ceasefire",
    title: str = "Ceasefire mentioned",
    severity: str = "medium",
    url: str = SEED_URL,
    headline: str = SEED_TITLE,
    site: str | None = "Middle East Eye",
    story_id: int = 1,
    published: datetime | None = PUBLISHED,
    figures: tuple[Figure, ...] = (),
    previous: tuple[Figure, ...] = (),
    captures: dict[str, tuple[str, ...]] | None = None,
    snippets: tuple[str, ...] = (CEASEFIRES,),
    hits: tuple[Hit, ...] = (),
    summary: str = "",
    tags: tuple[str, ...] = ("mideast",),
) -> Alert:
    match = Match(
        rule=rule,
        title=title,
        severity=severity,
        figures=figures,
        captures=captures or {},
        snippets=snippets,
        hits=hits,
        summary=summary,
    )
    return Alert(
        id=alert_id,
        article_url=url,
        article_title=headline,
        published=published,
        site_name=site,
        match=match,
        tags=tags,
        previous_figures=previous,
        story_id=story_id,
        created_at=published,
    )


def plan_of(
    alerts: Iterable[Alert],
    *,
    name: str = "humanitarian-desk",
    target: str = "desk@example.org",
    now: datetime = CREATED,
) -> DigestPlan:
    """The one digest the planner makes of `alerts` for one target (every rule wanted)."""
    planned = plan_subscription(name, [target], lambda _rule, _tags: True, alerts, 0, now)
    [digest] = planned.digests
    return digest


def seed_alerts() -> list[Alert]:
    displacement = make_alert(
        1,
        rule="displacement-figures",
        title="New displacement figures",
        severity="high",
        figures=(Figure(40000, "40,000", "at least"),),
        previous=(Figure(25000, "25,000", reported=datetime(2015, 10, 2, tzinfo=UTC)),),
        snippets=(DISPLACED,),
        hits=(Hit("displac*", "displaced", 0, 41, 50),),
        summary="at least 40,000 displaced in Syria",
        tags=("mideast", "humanitarian"),
    )
    envoy = make_alert(
        2,
        rule="envoy-travel",
        title="Envoy travel",
        captures={"destination": ("Moscow", "Washington")},
        snippets=(WASHINGTON,),
        hits=(Hit("envoy", "diplomat", 0, 22, 30), Hit("travel*", "travel", 0, 48, 54)),
        summary="envoy travel to Moscow, Washington",
    )
    ceasefire = make_alert(3, hits=(Hit("ceasefire*", "ceasefires", 0, 14, 24),))
    # the same wire story on a second outlet, a little later
    reuters = make_alert(
        4,
        url=REUTERS_URL,
        headline="UN envoy heads to Moscow for Syria talks",
        site="Reuters",
        published=PUBLISHED + timedelta(hours=1),
        hits=(Hit("ceasefire*", "ceasefires", 0, 14, 24),),
    )
    return [displacement, envoy, ceasefire, reuters]


def seed_plan() -> DigestPlan:
    return plan_of(seed_alerts())


def story_marker(index: int) -> str:
    """A word that names story `index` and survives every escaping."""
    return f"Story{index:02d}x"


def hostile_alerts(count: int = 50, *, rules: int = 3, repeat: int = 4) -> list[Alert]:
    """`count` stories, each with `rules` rules, every untrusted field long and hostile."""
    alerts: list[Alert] = []
    severities = ("critical", "high", "medium", "low", "info")
    long = " ".join([HOSTILE] * repeat)
    for story in range(count):
        for rule in range(rules):
            alerts.append(
                make_alert(
                    len(alerts) + 1,
                    rule=f"rule-{rule}",
                    title=f"Rule {rule} {HOSTILE}",
                    severity=severities[(story + rule) % len(severities)],
                    url=f"https://news.example/{story}?a=1&b=(2)|x>y<z\\w",
                    headline=f"{story_marker(story)} {long}",
                    site=f"Outlet {HOSTILE}",
                    story_id=story + 1,
                    published=PUBLISHED + timedelta(minutes=story),
                    figures=(Figure(1000 + story, f"{1000 + story:,}", "at least"),),
                    previous=(Figure(500, "500"),),
                    captures={"destination": (long, "Moscow"), HOSTILE[:40]: (HOSTILE,)},
                    snippets=(long, HOSTILE),
                    summary=f"summary {HOSTILE}"[:80],
                )
            )
    return alerts


def hostile_plan(count: int = 50, **kwargs: Any) -> DigestPlan:
    return plan_of(hostile_alerts(count, **kwargs), name="ops-chat", target="webhook")


def tiny_plan(count: int) -> DigestPlan:
    """`count` one-rule stories with short, harmless text."""
    alerts = [
        make_alert(
            i + 1,
            url=f"https://news.example/{i}",
            headline=f"{story_marker(i)} short",
            site="Outlet",
            story_id=i + 1,
            published=PUBLISHED + timedelta(minutes=i),
            snippets=("Truce holds.",),
        )
        for i in range(count)
    ]
    return plan_of(alerts, name="ops-chat", target="webhook")


def strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def body_json(body: bytes) -> Any:
    return json.loads(body.decode("utf-8"))


@pytest.fixture
def seed() -> DigestPlan:
    return seed_plan()


@pytest.fixture(scope="module")
def hostile() -> DigestPlan:
    return hostile_plan()
