"""The console's reads: alert history (filters, full text, keyset pages) and stories.

Alert history is newest first (by id) and paged by keyset: a page is "the `limit` alerts
before (or after) id N that pass the filters", read from an index and stopped at the page's
end, never counted or skipped through with OFFSET. Each filter has its index (migration
0010): rule (ix_alerts_rule), severity (ix_alerts_severity, on the match's severity that a
trigger copies out of its JSON), date (ix_alerts_created_at), feed (ix_articles_feed_url),
full text (`alert_search`). The ids of a page are picked first, from an index alone where
one holds every filter (a date range, a set of rules: ids sorted, no rows read), and only
the page's alerts and articles are read.

An alert is *for* a subscription when the subscription wants it: its rule is one of the
subscription's rules or it carries one of its tags (`SubscriptionConfig.wants`), the alerts
its digests draw from. That needs no outbox JSON unpacked per query, and holds for alerts
not yet sent; what was actually sent (silences and unsubscribes applied) is the outbox's.

Full text covers the article's title and the match's snippets. The query language: words
(all must occur, in either field), "quoted phrases", and `word*` for a prefix. Case never
matters; SQLite also ignores diacritics (cafe finds café), PostgreSQL (config 'simple',
for news in many languages) does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    RowMapping,
    Select,
    and_,
    column,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)

from monitor.models import Alert, Figure
from monitor.store.alerts import ARTICLE_COLUMNS, alert_from_row
from monitor.store.base import StoreBase
from monitor.store.schema import alert_search, alerts, articles, figure_history
from monitor.timeutil import as_utc

PAGE_SIZE = 50
# a story page shows at most this many articles and each figure series this many points
STORY_ARTICLES = 500
SERIES_POINTS = 200

# SQLite's FTS5 table (migration 0010): not in the metadata, spelt here
_fts = table("alert_search", column("rowid"))
_NEVER = datetime.min.replace(tzinfo=UTC)
# what an alert of the history is read with (not the article's text)
_COLUMNS = (
    alerts.c.id,
    alerts.c.article_id,
    alerts.c.tags,
    alerts.c.match,
    alerts.c.previous_figures,
    alerts.c.created_at,
    *ARTICLE_COLUMNS,
)


@dataclass(frozen=True)
class Wanted:
    """What a subscription receives: alerts of these rules, or carrying one of these tags."""

    rules: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlertFilter:
    """Which alerts the history shows; every field set narrows it (None or "": no filter)."""

    rule: str | None = None
    feed: str | None = None
    wanted: Wanted | None = None
    severity: str | None = None
    since: datetime | None = None  # created at or after
    until: datetime | None = None  # created before
    text: str = ""


@dataclass(frozen=True)
class FoundAlert:
    alert: Alert
    article_id: int
    feed_url: str | None

    @property
    def story(self) -> int:
        """The story's id: its first article (the article itself when it starts one)."""
        return self.alert.story_id or self.article_id


@dataclass(frozen=True)
class AlertPage:
    """A page of alerts, newest first, and the keys of the pages either side (None at an end)."""

    alerts: tuple[FoundAlert, ...]
    older: int | None  # the next page is `before=older`
    newer: int | None  # the previous page is `after=newer`


@dataclass(frozen=True)
class Term:
    """One term of a search: words in a row (a phrase), the last one maybe a prefix."""

    words: tuple[str, ...]
    prefix: bool = False


def search_terms(query: str) -> tuple[Term, ...]:
    """The terms of a search box's text: "quoted phrases", words, `word*` prefixes. Only
    letters and digits count (as both full-text engines split words), so nothing typed
    can reach either engine's own query syntax."""
    terms = []
    for phrase, bare in re.findall(r'"([^"]*)"?|(\S+)', query):
        words = tuple(re.findall(r"[^\W_]+", phrase or bare))
        if words:
            terms.append(Term(words, prefix=bool(bare) and bare.endswith("*")))
    return tuple(terms)


def fts5_query(terms: tuple[Term, ...]) -> str:
    """`"a b" AND "c" *`: each term a phrase (prefix: ` *`), all of them required."""
    return " AND ".join(f'"{" ".join(t.words)}"{" *" if t.prefix else ""}' for t in terms)


def tsquery(terms: tuple[Term, ...]) -> str:
    """`(a <-> b) & c:*` for PostgreSQL's to_tsquery."""
    return " & ".join("(" + " <-> ".join(t.words) + (":*" if t.prefix else "") + ")" for t in terms)


@dataclass(frozen=True)
class StoryArticle:
    id: int
    url: str
    title: str
    site_name: str | None
    feed_url: str | None
    published: datetime | None
    created_at: datetime | None


@dataclass(frozen=True)
class FigureSeries:
    """The figure history of one (rule, key): oldest first, each with when it was reported."""

    rule: str
    key: str
    figures: tuple[Figure, ...]


@dataclass(frozen=True)
class Story:
    id: int
    articles: tuple[StoryArticle, ...]  # in publication order
    alerts: tuple[Alert, ...]  # oldest first
    figures: tuple[FigureSeries, ...]

    @property
    def rules(self) -> dict[str, tuple[Alert, ...]]:
        """Each rule that matched, with its alerts, in the order they first fired."""
        found: dict[str, list[Alert]] = {}
        for alert in self.alerts:
            found.setdefault(alert.match.rule, []).append(alert)
        return {rule: tuple(them) for rule, them in found.items()}


class SearchStore(StoreBase):
    def alert_history(
        self,
        where: AlertFilter = AlertFilter(),
        *,
        before: int | None = None,
        after: int | None = None,
        limit: int = PAGE_SIZE,
    ) -> AlertPage:
        """A page of the alerts passing `where`, newest first: the newest of all, those
        older than id `before`, or those just newer than id `after`."""
        page = self._page_ids(where, search_terms(where.text), before, after, limit + 1)
        query = (
            select(*_COLUMNS)
            .join(articles, articles.c.id == alerts.c.article_id)
            .where(alerts.c.id.in_(page))
            .order_by(alerts.c.id.asc() if after is not None else alerts.c.id.desc())
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        more = len(rows) > limit
        found = [_found(r) for r in rows[:limit]]
        if after is not None:
            # read oldest first from `after`; the page we came from is older than these
            found.reverse()
            newer = found[0].alert.id if more else None
            older = found[-1].alert.id if found else None
        else:
            older = found[-1].alert.id if more else None
            newer = found[0].alert.id if found and before is not None else None
        return AlertPage(tuple(found), older=older, newer=newer)

    def _page_ids(
        self,
        where: AlertFilter,
        terms: tuple[Term, ...],
        before: int | None,
        after: int | None,
        limit: int,
    ) -> Select[Any]:
        """The ids of a page, alone: a filter read from an index alone (a date range, a set
        of rules) sorts ids only, and the page's rows and articles are read for these."""
        query, key = self._matching(where, terms)
        if after is not None:
            return query.where(key > after).order_by(key.asc()).limit(limit)
        if before is not None:
            query = query.where(key < before)
        return query.order_by(key.desc()).limit(limit)

    def _matching(
        self, where: AlertFilter, terms: tuple[Term, ...]
    ) -> tuple[Select[Any], ColumnElement[int]]:
        """The ids of the alerts passing `where`, unordered, and the column they are keyed on."""
        key: ColumnElement[int] = alerts.c.id
        if terms and self.engine.dialect.name == "sqlite":
            # FTS5 leads: it yields matching rowids newest first and stops at the page's end
            key = _fts.c.rowid
            query = select(key).select_from(_fts).join(alerts, alerts.c.id == _fts.c.rowid)
            query = query.where(literal_column("alert_search").op("MATCH")(fts5_query(terms)))
        elif terms:
            ts = func.to_tsquery(text("'simple'::regconfig"), tsquery(terms))
            query = (
                select(key)
                .select_from(alert_search)
                .join(alerts, alerts.c.id == alert_search.c.alert_id)
                .where(alert_search.c.document.op("@@")(ts))
            )
        else:
            query = select(key)
        if where.feed:
            query = query.join(articles, articles.c.id == alerts.c.article_id)
            query = query.where(articles.c.feed_url == where.feed)
        if where.rule:
            query = query.where(alerts.c.rule == where.rule)
        if where.severity:
            query = query.where(alerts.c.severity == where.severity)
        if where.since is not None:
            query = query.where(alerts.c.created_at >= where.since)
        if where.until is not None:
            query = query.where(alerts.c.created_at < where.until)
        if where.wanted is not None:
            query = query.where(self._wanted(where.wanted))
        return query, key

    def _wanted(self, wanted: Wanted) -> ColumnElement[bool]:
        either: list[ColumnElement[bool]] = []
        if wanted.rules:
            either.append(alerts.c.rule.in_(wanted.rules))
        if wanted.tags:
            elements = (
                func.json_array_elements_text
                if self.engine.dialect.name == "postgresql"
                else func.json_each
            )
            tag = elements(alerts.c.tags).table_valued("value")
            either.append(exists(select(1).select_from(tag).where(tag.c.value.in_(wanted.tags))))
        return or_(*either) if either else false()  # wanting nothing gets nothing

    def alert_rules(self) -> list[str]:
        """The rules that have alerted, in order: one index step per rule (a skip scan of
        ix_alerts_rule), however many alerts there are."""
        walk = select(func.min(alerts.c.rule).label("rule")).cte("walk", recursive=True)
        step = select(
            select(func.min(alerts.c.rule)).where(alerts.c.rule > walk.c.rule).scalar_subquery()
        ).where(walk.c.rule.is_not(None))
        walk = walk.union_all(step)
        with self.engine.connect() as conn:
            return [r for r in conn.scalars(select(walk.c.rule)) if r is not None]

    def story(self, story_id: int) -> Story | None:
        """Every article of the story (the first STORY_ARTICLES), every alert on them, and for
        figure rules the history of each (rule, key) they reported into."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    articles.c.id,
                    articles.c.url,
                    articles.c.title,
                    articles.c.site_name,
                    articles.c.feed_url,
                    articles.c.published,
                    articles.c.created_at,
                )
                .where(
                    or_(
                        articles.c.story_id == story_id,
                        # stored before stories were kept: an article alone
                        and_(articles.c.id == story_id, articles.c.story_id.is_(None)),
                    )
                )
                .order_by(articles.c.id)
                .limit(STORY_ARTICLES)
            ).all()
            if not rows:
                return None
            story_articles = tuple(
                sorted(
                    (
                        StoryArticle(
                            r.id,
                            r.url,
                            r.title,
                            r.site_name,
                            r.feed_url,
                            as_utc(r.published),
                            as_utc(r.created_at),
                        )
                        for r in rows
                    ),
                    key=lambda a: (a.published or a.created_at or _NEVER, a.id),
                )
            )
            ids = [a.id for a in story_articles]
            found = [
                _found(r)
                for r in conn.execute(
                    select(*_COLUMNS)
                    .join(articles, articles.c.id == alerts.c.article_id)
                    .where(alerts.c.article_id.in_(ids))
                    .order_by(alerts.c.id)
                ).mappings()
            ]
            series = self._figure_series(conn, [f.alert.id for f in found])
        return Story(story_id, story_articles, tuple(f.alert for f in found), tuple(series))

    def _figure_series(self, conn: Any, alert_ids: list[int]) -> list[FigureSeries]:
        if not alert_ids:
            return []
        keys = conn.execute(
            select(figure_history.c.rule, figure_history.c.key)
            .where(figure_history.c.alert_id.in_(alert_ids))
            .distinct()
            .order_by(figure_history.c.rule, figure_history.c.key)
        ).all()
        reported = func.coalesce(figure_history.c.reported_at, figure_history.c.created_at)
        series = []
        for rule, key in keys:
            rows = conn.execute(
                select(
                    figure_history.c.value,
                    figure_history.c.text,
                    figure_history.c.qualifier,
                    reported.label("reported"),
                )
                .where(figure_history.c.rule == rule, figure_history.c.key == key)
                .order_by(reported.desc(), figure_history.c.id.desc())
                .limit(SERIES_POINTS)
            ).all()
            figures = tuple(
                Figure(r.value, r.text, r.qualifier, reported=as_utc(r.reported))
                for r in reversed(rows)
            )
            series.append(FigureSeries(rule, key, figures))
        return series


def _found(r: RowMapping) -> FoundAlert:
    return FoundAlert(
        alert_from_row(r),
        article_id=r["article_id"],
        feed_url=r["feed_url"],
    )
