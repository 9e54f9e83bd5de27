"""Waking the phones' event streams when the record changes.

One change feed per service (a thread reading new audit entries: dispatch.*, engagement.recorded,
handheld.*) sets an asyncio.Event of every open stream, from its own thread through the stream's
loop (``call_soon_threadsafe``). A stream then asks its own device again and tells the page to
fetch its inbox - the feed carries no incident data to the phones itself.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from console.services.runtime.changes import Change, ChangeFeed

WOKEN_BY = ("dispatch.", "engagement.recorded", "handheld.")


class Hub:
    def __init__(self, open_store: Callable[[], object], interval_s: float = 0.2) -> None:
        self.open_store = open_store
        self.interval_s = interval_s
        self._subscribers: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._lock = threading.Lock()
        self._feed: ChangeFeed | None = None

    def start(self) -> None:
        with self._lock:
            if self._feed is None:
                self._feed = ChangeFeed(self.open_store, self._on_change, self.interval_s).start()

    def stop(self) -> None:
        with self._lock:
            feed, self._feed = self._feed, None
        if feed is not None:
            feed.stop()

    def subscribe(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Event]:
        self.start()  # also when the server skipped the lifespan (a test client without it)
        sub = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub) -> None:
        with self._lock:
            self._subscribers.discard(sub)

    def _on_change(self, change: Change) -> None:
        if not change.action.startswith(WOKEN_BY):
            return
        with self._lock:
            subs = list(self._subscribers)
        for loop, event in subs:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that stream's loop closed in between
                self.unsubscribe((loop, event))
