"""Silences: a rule, story, feed or tag kept out of digests for a while (digest/silences.py
says what each matches). Saved checked, listed, ended early; never deleted, so the list of
expired ones says who silenced what, when and why."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import String, and_, case, cast, insert, or_, select, update

from monitor.digest.silences import PREVIEW_WINDOW, Silence, normalized, would_hide
from monitor.models import Alert
from monitor.store.alerts import AlertStore
from monitor.store.base import inserted_id
from monitor.store.schema import alerts, articles, silences
from monitor.timeutil import as_utc, utcnow

Which = Literal["active", "expired", "all"]
# The preview reads at most this many alerts (newest first).
PREVIEW_LIMIT = 5000


class SilenceStore(AlertStore):
    def add_silence(
        self,
        scope: str,
        value: str,
        *,
        ends_at: datetime,
        comment: str,
        author: str,
        subscription: str | None = None,
        starts_at: datetime | None = None,
        now: datetime | None = None,
    ) -> Silence:
        """Save a silence (from now, unless `starts_at`), checked first: InvalidSilence says
        what is wrong with it."""
        now = as_utc(now) or utcnow()
        starts = as_utc(starts_at) or now
        ends = as_utc(ends_at)
        assert ends is not None
        scope, value, comment, author, subscription = normalized(
            scope,
            value,
            starts_at=starts,
            ends_at=ends,
            comment=comment,
            author=author,
            subscription=subscription,
        )
        silence = Silence(0, subscription, scope, value, starts, ends, comment, author, now)
        row = asdict(silence)
        del row["id"]
        with self.engine.begin() as conn:
            silence_id = inserted_id(conn.execute(insert(silences).values(**row)))
        return replace(silence, id=silence_id)

    def silence(self, silence_id: int) -> Silence | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(silences).where(silences.c.id == silence_id)).first()
        return _silence(row) if row is not None else None

    def silences(
        self, which: Which = "active", *, now: datetime | None = None, limit: int | None = None
    ) -> list[Silence]:
        """Silences not yet ended ("active": those that started, and any that start later),
        soonest to end first; or ended ("expired"), latest ended first; or "all", newest
        first."""
        now = as_utc(now) or utcnow()
        s = silences.c
        query = select(silences)
        if which == "active":
            query = query.where(s.ends_at > now).order_by(s.ends_at, s.id)
        elif which == "expired":
            query = query.where(s.ends_at <= now).order_by(s.ends_at.desc(), s.id.desc())
        else:
            query = query.order_by(s.id.desc())
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [_silence(row) for row in conn.execute(query)]

    def active_silences(self, subscription: str, now: datetime | None = None) -> list[Silence]:
        """The silences in force now for `subscription`: its own and those for all."""
        now = as_utc(now) or utcnow()
        s = silences.c
        query = (
            select(silences)
            .where(
                s.ends_at > now,
                s.starts_at <= now,
                or_(s.subscription.is_(None), s.subscription == subscription),
            )
            .order_by(s.id)
        )
        with self.engine.connect() as conn:
            return [_silence(row) for row in conn.execute(query)]

    def expire_silence(self, silence_id: int, now: datetime | None = None) -> Silence | None:
        """End a silence now; None when there is no such silence, or it had ended already
        (`silence(id)` tells which)."""
        now = as_utc(now) or utcnow()
        s = silences.c
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(silences)
                .where(s.id == silence_id, s.ends_at > now)
                .values(ends_at=now, starts_at=case((s.starts_at > now, now), else_=s.starts_at))
            ).rowcount
        return self.silence(silence_id) if changed else None

    def silence_preview(
        self,
        silence: Silence,
        *,
        now: datetime | None = None,
        within: timedelta = PREVIEW_WINDOW,
        wants: Callable[[str, tuple[str, ...]], bool] | None = None,
        limit: int = PREVIEW_LIMIT,
    ) -> list[Alert]:
        """The alerts of the last `within` that `silence` would have hidden had it been in
        force (newest first, at most `limit`); `wants(rule, tags)` narrows them to what its
        subscription receives."""
        since = (as_utc(now) or utcnow()) - within
        query = (
            select(alerts.c.id)
            .select_from(alerts.join(articles, articles.c.id == alerts.c.article_id))
            .where(alerts.c.created_at >= since, _narrowed(silence))
            .order_by(alerts.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            ids = list(conn.execute(query).scalars())
        found = self.alerts_by_id(ids) if ids else []
        return would_hide(silence, reversed(found), wants)


def _narrowed(silence: Silence) -> Any:
    """A WHERE term that keeps the alerts the silence may match (`would_hide` decides)."""
    value = silence.value
    if silence.scope == "rule":
        return alerts.c.rule == value
    if silence.scope == "feed":
        return articles.c.feed_url == value
    if silence.scope == "story":
        story = int(value)
        if story > 0:
            return articles.c.story_id == story
        no_story = or_(articles.c.story_id.is_(None), articles.c.story_id == 0)
        return and_(alerts.c.id == -story, no_story)
    # tags are a JSON list, stored as json.dumps writes it: the quoted tag is in its text
    quoted = json.dumps(value)
    pattern = "%" + quoted.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"
    return cast(alerts.c.tags, String).like(pattern, escape="!")


def _silence(row: Any) -> Silence:
    return Silence(
        id=row.id,
        subscription=row.subscription,
        scope=row.scope,
        value=row.value,
        starts_at=_utc(row.starts_at),
        ends_at=_utc(row.ends_at),
        comment=row.comment,
        author=row.author,
        created_at=_utc(row.created_at),
    )


def _utc(value: datetime) -> datetime:
    when = as_utc(value)
    assert when is not None
    return when
