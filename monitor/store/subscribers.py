"""Subscribers' own choices: unsubscribed from a subscription, or muting a rule or story."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from monitor.digest.plan import Mutes
from monitor.store.base import StoreBase, insert_or_ignore
from monitor.store.schema import outbox, unsubscribes
from monitor.timeutil import as_utc, utcnow

SCOPES = ("all", "rule", "story")


@dataclass(frozen=True)
class Unsubscribe:
    subscription: str
    address: str
    scope: str
    value: str
    created_at: datetime


class SubscriberStore(StoreBase):
    def unsubscribe(
        self,
        subscription: str,
        address: str,
        scope: str = "all",
        value: str = "",
        now: datetime | None = None,
    ) -> None:
        """Record that `address` wants nothing more of `subscription` (scope "all"), or
        nothing more of one rule or story (`value`); saying it twice is harmless."""
        if scope not in SCOPES:
            raise ValueError(f"unsubscribe scope must be one of {', '.join(SCOPES)}")
        row = {
            "subscription": subscription,
            "address": address,
            "scope": scope,
            "value": value if scope != "all" else "",
            "created_at": now or utcnow(),
        }
        with self.engine.begin() as conn:
            conn.execute(insert_or_ignore(conn, unsubscribes), [row])

    def resubscribe(
        self, subscription: str, address: str, scope: str = "all", value: str = ""
    ) -> None:
        """Take back one `unsubscribe` (the confirmation page's "subscribe again")."""
        u = unsubscribes.c
        with self.engine.begin() as conn:
            conn.execute(
                delete(unsubscribes).where(
                    u.subscription == subscription,
                    u.address == address,
                    u.scope == scope,
                    u.value == (value if scope != "all" else ""),
                )
            )

    def received_alerts(self, subscription: str, address: str, digest: str) -> list[int]:
        """The alert ids of the digest `digest` as sent to `address` (none if it was not)."""
        o = outbox.c
        query = select(o.alert_ids).where(
            o.digest == digest, o.subscription == subscription, o.target == address
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).scalars().all()
        return sorted({int(i) for ids in rows for i in ids})

    def mutes(self, subscription: str) -> dict[str, Mutes]:
        """What each address of a subscription has turned off."""
        chosen: dict[str, list[Unsubscribe]] = {}
        for u in self.unsubscribes(subscription):
            chosen.setdefault(u.address, []).append(u)
        return {
            address: Mutes(
                everything=any(u.scope == "all" for u in rows),
                rules=frozenset(u.value for u in rows if u.scope == "rule"),
                stories=frozenset(int(u.value) for u in rows if u.scope == "story"),
            )
            for address, rows in chosen.items()
        }

    def unsubscribes(self, subscription: str | None = None) -> list[Unsubscribe]:
        query = select(unsubscribes).order_by(unsubscribes.c.id)
        if subscription is not None:
            query = query.where(unsubscribes.c.subscription == subscription)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        now = utcnow()
        return [
            Unsubscribe(r.subscription, r.address, r.scope, r.value, as_utc(r.created_at) or now)
            for r in rows
        ]
