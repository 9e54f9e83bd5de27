"""Retention: deletion that is mandatory, automatic and logged.

- Alert images (probe crop, context frame, further views) are purged after
  ``alert_retention_days`` (31 by default); the alert record and its image hashes stay.
- A deployment's watchlist images and embeddings are purged ``watchlist_purge_hours`` after
  it ends (1 by default, never more than 24), keeping which records were on it.
Purges run at start-up and on a schedule; each one writes a purge row and an audit entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from console import clock
from console.errors import ConsoleError
from console.services.accounts.auth import Actor
from console.services.accounts.permissions import Permission
from console.store import Store, audit, ledger, repo
from console.store import retention as db

DEFAULT_ALERT_DAYS = 31
DEFAULT_WATCHLIST_HOURS = 1
MAX_WATCHLIST_HOURS = 24


@dataclass(frozen=True)
class PurgeReport:
    alerts: int
    views: int
    entry_images: int
    watchlists: int

    def summary(self) -> str:
        return (f"purged images of {self.alerts} alerts ({self.views} further views), "
                f"{self.entry_images} watchlist images of {self.watchlists} ended deployments' watchlists")


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="microseconds").replace("+00:00", "Z")


def settings(store: Store) -> tuple[int, int]:
    days = int(repo.get_setting(store, "retention", "alert_retention_days", DEFAULT_ALERT_DAYS))
    hours = int(repo.get_setting(store, "retention", "watchlist_purge_hours", DEFAULT_WATCHLIST_HOURS))
    return days, hours


def configure(store: Store, actor: Actor, alert_days: int, watchlist_hours: int, reason: str) -> None:
    actor.require(Permission.MANAGE_RETENTION, store)
    if not 1 <= alert_days <= 31:
        raise ConsoleError("alert images are kept between 1 and 31 days")
    if not 0 <= watchlist_hours <= MAX_WATCHLIST_HOURS:
        raise ConsoleError(f"watchlists are purged within {MAX_WATCHLIST_HOURS} hours of a deployment's end")
    repo.set_setting(store, "retention", "alert_retention_days", alert_days, actor.user_id, actor.username, reason)
    repo.set_setting(store, "retention", "watchlist_purge_hours", watchlist_hours, actor.user_id, actor.username,
                     reason)


def run_purges(store: Store, now: datetime | None = None, actor_name: str = "retention") -> PurgeReport:
    now = now or clock.now()
    days, hours = settings(store)
    stamp = _iso(now)
    alert_cutoff = _iso(now - timedelta(days=days))
    with store.transaction() as conn:
        old = db.unpurged_alerts_before(conn, alert_cutoff)
        views = 0
        if old:
            db.purge_alert_images(conn, old, stamp)
            views = db.purge_alert_views(conn, old)
            _record(store, conn, "alert_images", stamp, len(old), {"alert_ids": old, "older_than": alert_cutoff,
                                                                   "views": views}, actor_name,
                    ledger.merged(ledger.of(conn, "alert_views", alert_id=old),
                                  ledger.of(conn, "alert_contexts", alert_id=old)))
        ended = db.finished_deployments(conn, stamp)
        images = watchlists = 0
        for dep in ended:
            finished = datetime.fromisoformat(dep["finished"].replace("Z", "+00:00"))
            if now - finished < timedelta(hours=hours):
                continue
            lists = db.unpurged_watchlists(conn, dep["id"])
            if not lists:
                continue
            kept = db.record_numbers(conn, lists)
            n = db.purge_entry_images(conn, lists, stamp)
            db.mark_watchlists_purged(conn, lists, stamp)
            images += n
            watchlists += len(lists)
            _record(store, conn, "watchlist", stamp, n, {"deployment_id": dep["id"], "watchlists": lists,
                                                         "records_kept": kept, "ended": dep["finished"]}, actor_name,
                    ledger.merged(ledger.of(conn, "entry_images", purged_at=stamp), ledger.of(conn, "watchlists", id=lists)))
    if old or images:
        store.scrub_freed()  # no copy left in the database's files (SQLite: secure_delete and the WAL emptied)
    return PurgeReport(len(old), views, images, watchlists)


def _record(store: Store, conn, rule: str, stamp: str, items: int, details: dict, actor_name: str, rows: dict) -> None:
    """The purge's row and its audit entry, which carries the digests of the rows it changed and its own."""
    purge_id = db.insert_purge(conn, rule, stamp, items, json.dumps(details, sort_keys=True))
    audit.append(store, actor_name, f"retention.purged.{rule}", "purge", rule,
                 {"items": items, **details, "rows": ledger.merged(rows, ledger.of(conn, "purges", id=purge_id))})


def run_purges_now(store: Store, actor: Actor, now: datetime | None = None) -> PurgeReport:
    """The due purges, run by hand by a user who may (they are logged under that user)."""
    actor.require(Permission.RUN_PURGE, store)
    return run_purges(store, now, actor_name=actor.username)


def recent_purges(store: Store, actor: Actor, limit: int = 50) -> list[dict]:
    """The latest purge runs, newest first: when, which rule, how many items."""
    actor.require(Permission.VIEW_AUDIT, store)
    return [dict(r) for r in db.recent_purges(store, limit)]
