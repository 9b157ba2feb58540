"""Alerts and the figure history of new-figure rules."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select

from monitor.codec import figure_from_json, figure_to_json, match_from_json, match_to_json
from monitor.models import Alert, Figure, Match
from monitor.store.base import StoreBase, insert_or_ignore, inserted_id
from monitor.store.schema import alerts, articles, figure_history
from monitor.timeutil import as_utc, utcnow

# On PostgreSQL, digests take alerts inserted at least this long ago (see alerts_after).
SETTLE = timedelta(seconds=10)
# "up from ..." shows at most this many earlier figures of a place or story, from this long
HISTORY_LIMIT = 5
HISTORY_WINDOW = timedelta(days=180)


class AlertStore(StoreBase):
    def previous_figures(
        self,
        rule: str,
        key: str = "",
        *,
        now: datetime | None = None,
        within: timedelta = HISTORY_WINDOW,
        limit: int = HISTORY_LIMIT,
        conn: Connection | None = None,
    ) -> list[Figure]:
        """The figures alerted for (rule, key) in the last `within`: the `limit` latest, in
        publication order, each with its qualifier and when it was reported."""
        since = (now or utcnow()) - within
        reported = func.coalesce(figure_history.c.reported_at, figure_history.c.created_at)
        with self._using(conn, write=False) as conn:
            rows = conn.execute(
                select(
                    figure_history.c.value,
                    figure_history.c.text,
                    figure_history.c.qualifier,
                    reported.label("reported"),
                )
                .where(
                    figure_history.c.rule == rule,
                    figure_history.c.key == key,
                    figure_history.c.created_at >= since,
                )
                .order_by(reported.desc(), figure_history.c.id.desc())
                .limit(limit)
            ).all()
        return [
            Figure(value=r.value, text=r.text, qualifier=r.qualifier, reported=as_utc(r.reported))
            for r in reversed(rows)
        ]

    def known_figure_values(
        self, rule: str, key: str, values: list[int], *, conn: Connection | None = None
    ) -> set[int]:
        """Which of `values` the history of (rule, key) holds already, however old."""
        with self._using(conn, write=False) as conn:
            rows = conn.execute(
                select(figure_history.c.value).where(
                    figure_history.c.rule == rule,
                    figure_history.c.key == key,
                    figure_history.c.value.in_(values),
                )
            ).all()
        return {r.value for r in rows}

    def add_alert(
        self,
        article_id: int,
        match: Match,
        tags: tuple[str, ...],
        previous: tuple[Figure, ...] = (),
        figure_key: str | None = None,
        now: datetime | None = None,
        reported: datetime | None = None,
        conn: Connection | None = None,
    ) -> int:
        """Store an alert; with `figure_key` set, its figures join the rule's figure history."""
        now = now or utcnow()
        with self._using(conn) as conn:
            alert_id = inserted_id(
                conn.execute(
                    insert(alerts).values(
                        article_id=article_id,
                        rule=match.rule,
                        tags=list(tags),
                        match=match_to_json(match),
                        previous_figures=[figure_to_json(f) for f in previous],
                        created_at=now,
                        **_inserted_now(conn),
                    )
                )
            )
            if figure_key is not None and match.figures:
                # (rule, key, value) is unique: figures already in the history are skipped
                conn.execute(
                    insert_or_ignore(conn, figure_history),
                    [
                        {
                            "rule": match.rule,
                            "key": figure_key,
                            "value": f.value,
                            "text": f.text,
                            "qualifier": f.qualifier,
                            "alert_id": alert_id,
                            "created_at": now,
                            "reported_at": reported or now,
                        }
                        for f in match.figures
                    ],
                )
        return alert_id

    def alerts_after(self, cursor: int) -> list[Alert]:
        """Alerts past a subscription's cursor. With several workers on PostgreSQL, ids are
        handed out before commit, so a younger alert can commit before an older one: only
        alerts inserted more than `settle` ago are read, so the cursor never passes one that
        is about to appear. (One worker, or SQLite, writes one alert at a time: no wait.)"""
        where = alerts.c.id > cursor
        if self.engine.dialect.name == "postgresql" and self.settle:
            where = and_(where, alerts.c.inserted_at < func.now() - self.settle)
        return self._alerts(where)

    def alerts_by_id(self, ids: list[int]) -> list[Alert]:
        return self._alerts(alerts.c.id.in_(ids))

    def _alerts(self, where: Any) -> list[Alert]:
        query = (
            select(alerts, *ARTICLE_COLUMNS)
            .join(articles, articles.c.id == alerts.c.article_id)
            .where(where)
            .order_by(alerts.c.id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [alert_from_row(r) for r in rows]


def _inserted_now(conn: Connection) -> dict[str, Any]:
    """On PostgreSQL, `inserted_at` is the moment of the insert (`clock_timestamp()`), not of
    the transaction's start (`now()`, the column default): the settle window then covers only
    the few statements between the alert's insert and its commit, however long the article's
    part of the transaction took."""
    if conn.dialect.name == "postgresql":
        return {"inserted_at": func.clock_timestamp()}
    return {}


# what an Alert needs of its article, beside the alert's own columns (`alert_from_row`)
ARTICLE_COLUMNS = (
    articles.c.url,
    articles.c.title,
    articles.c.published,
    articles.c.site_name,
    articles.c.story_id,
    articles.c.feed_url,
)


def alert_from_row(r: Any) -> Alert:
    """An alert from a row of `alerts` joined with its article's ARTICLE_COLUMNS."""
    return Alert(
        id=r["id"],
        article_url=r["url"],
        article_title=r["title"],
        published=as_utc(r["published"]),
        site_name=r["site_name"],
        match=match_from_json(r["match"]),
        tags=tuple(r["tags"]),
        previous_figures=tuple(figure_from_json(f) for f in r["previous_figures"]),
        story_id=r["story_id"] or 0,
        created_at=as_utc(r["created_at"]),
        feed_url=r["feed_url"],
    )
