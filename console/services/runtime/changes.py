"""Live updates between seats: every change worth showing is an audit entry, so a feed of new
audit entries is a feed of changes - the same for a second process on one SQLite file and for
consoles on one PostgreSQL server.

On PostgreSQL each append also NOTIFYs (delivered at commit), and the feed wakes on it; on
SQLite the feed polls the log's head twice a second. Either way a new alert, a claim or a
decision reaches every console within about a second, and nothing is missed: the feed reads by
sequence number, not by message.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass

from console.store import runtime

CHANNEL = "orc_changes"
SHOWN = ("alert.raised", "alert.opened", "alert.returned", "alert.escalated", "alert.suppressed", "decision.recorded",
         "decision.corrected", "decision.first_confirmation", "deployment.threshold_changed", "deployment.stopped",
         "deployment.restarted", "deployment.ended", "dispatch.sent", "dispatch.delivered", "dispatch.seen",
         "dispatch.closed", "engagement.recorded", "handheld.paired", "handheld.revoked", "handheld.signed_out")


@dataclass(frozen=True)
class Change:
    seq: int
    action: str
    actor_name: str  # the audit entry's actor: a user name, or a worker's or the console's name
    subject_type: str
    subject_id: str
    details: dict


RETRY_S = 1.0


def head_seq(store) -> int:
    """The newest audit entry's number: a feed started from it misses nothing that comes after."""
    return runtime.audit_head_seq(store)


class ChangeFeed:
    """Calls ``on_change(Change)`` from its own thread for each new entry after ``since_seq`` (None:
    after the log's head when the feed first connects)."""

    def __init__(self, open_store: Callable[[], object], on_change: Callable[[Change], None],
                 interval_s: float = 0.5, since_seq: int | None = None) -> None:
        self.open_store = open_store
        self.on_change = on_change
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_seq = since_seq or 0
        self._from_head = since_seq is None
        self.error = ""

    def start(self) -> ChangeFeed:
        self._thread = threading.Thread(target=self._run, name="change-feed", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 3.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        store = listener = None
        first = True
        while not self._stop.is_set():
            try:
                if store is None:
                    store = self.open_store()
                    if first and self._from_head:  # from now on; after a reconnect, from where it stopped
                        self.last_seq = head_seq(store)
                    first = False
                    listener = store.listen(CHANNEL) if getattr(store, "dialect", "sqlite") == "postgres" else None
                if listener is not None:
                    listener(self.interval_s)  # returns early when a NOTIFY arrives
                else:
                    self._stop.wait(self.interval_s)
                self._drain(store)
                self.error = ""
            except Exception as exc:  # a cut session or a locked file must not stop the seat's updates
                self.error = f"updates from the other seats paused: {exc}"
                if store is not None:
                    try:
                        store.close()
                    except Exception:
                        pass
                store = listener = None
                self._stop.wait(RETRY_S)
        if store is not None:
            store.close()

    def _drain(self, store) -> None:
        """Every entry after the last one seen, in one read: the feed moves on only past entries it
        has read. (Reading the log's head in a second query could jump past an entry committed in
        between, and that seat would never obey it: found on PostgreSQL under load.)"""
        rows = runtime.audit_entries_after(store, self.last_seq)

        for r in rows:
            if r["action"] in SHOWN:
                self.on_change(Change(int(r["seq"]), r["action"], r["actor"], r["subject_type"], r["subject_id"],
                                      json.loads(r["details_json"])))
            self.last_seq = int(r["seq"])
