"""What every answer to a phone carries, and what every request from one must show.

Headers: nothing cached (no-store), no referrer, no framing, no sniffing, a content security policy
without inline script, and HSTS. Requests: a POST must carry ``X-ORC-Handheld: 1`` (a form or an
image on another site cannot add it) and, when the browser names an Origin, it must be this
service's own. Pairing tries are limited per client address, in memory, on top of the service's
own voiding of codes after too many failures.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable

CSP = ("default-src 'self'; img-src 'self' blob:; script-src 'self'; style-src 'self'; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {
    "cache-control": "no-store",
    "pragma": "no-cache",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": CSP,
    "strict-transport-security": "max-age=31536000",
}
CSRF_HEADER = "x-orc-handheld"
FAILED = "the handheld service failed: tell the control room by radio"
log = logging.getLogger("console.handheld")


class SecurityHeaders:
    """ASGI middleware: the headers above on every response, streamed ones (SSE) included; a header
    the app set already (say, Cache-Control on a static file) is replaced, never doubled."""

    def __init__(self, app) -> None:
        self.app = app
        self._raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in HEADERS.items()]
        self._names = {k.encode("latin-1") for k in HEADERS}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = False

        async def send_with_headers(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in self._names
                        and k.lower() not in (b"etag", b"last-modified")]
                message = {**message, "headers": kept + self._raw}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:  # one sentence to the phone, the kind of failure to the log: never a traceback out
            log.error("handheld request %s %s failed: %s", scope.get("method"), scope.get("path"), type(exc).__name__)
            if not started:
                body = json.dumps({"error": FAILED}).encode()
                await send_with_headers({"type": "http.response.start", "status": 500,
                                         "headers": [(b"content-type", b"application/json"),
                                                     (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})


def csrf_refusal(method: str, headers, scheme: str, netloc: str) -> str:
    """'' when the request may go on; else why not (a POST from another site, or one not from our page)."""
    if method != "POST":
        return ""
    if headers.get(CSRF_HEADER) != "1":
        return "refused: the request did not come from the handheld page"
    origin = headers.get("origin")
    if origin is not None and origin != f"{scheme}://{netloc}":
        return "refused: the request came from another site"
    return ""


class PairingLimiter:
    """After ``limit`` refusals from one address within ``window_s``, that address is refused for
    ``block_s`` (429) whatever it sends. Thread-safe; the clock is injectable for tests."""

    def __init__(self, limit: int = 5, window_s: float = 60.0, block_s: float = 60.0,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window_s, self.block_s, self.now = limit, window_s, block_s, now
        self._refusals: dict[str, deque[float]] = {}
        self._blocked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def blocked(self, client: str) -> bool:
        with self._lock:
            until = self._blocked_until.get(client)
            if until is None:
                return False
            if until > self.now():
                return True
            del self._blocked_until[client]
            return False

    def refused(self, client: str) -> None:
        with self._lock:
            now = self.now()
            times = self._refusals.setdefault(client, deque())
            times.append(now)
            while times and times[0] <= now - self.window_s:
                times.popleft()
            if len(times) >= self.limit:
                self._blocked_until[client] = now + self.block_s
                times.clear()
            if len(self._refusals) > 10_000:  # a flood of addresses must not grow memory without end
                self._refusals = {k: v for k, v in self._refusals.items() if v}
