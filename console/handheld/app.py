"""The handheld web service: the officer's page and its JSON API, for phones paired to officers.

``make_app(open_store)`` builds the Starlette app; ``server.serve`` runs it over HTTPS. Every store
call runs off the event loop in a worker thread, on that thread's own store (SQLite connections are
per thread). A request is the device's by its cookie (``orc_handheld``: HttpOnly, Secure,
SameSite=Strict), checked again on every request, so a revoked or expired pairing is refused at once.
Errors reach the phone as one sentence in JSON, never a traceback; nothing secret is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from console import clock
from console.errors import ConsoleError, PermissionDenied, StoreError
from console.handheld.guard import PairingLimiter, SecurityHeaders, csrf_refusal
from console.handheld.live import Hub
from console.redaction import redact
from console.services.engage import dispatch, pairing

COOKIE = "orc_handheld"
STATIC = Path(__file__).with_name("static")
PING_S = 2.0
TOO_MANY = "too many wrong pairing codes from this phone: wait a minute, then ask the supervisor for a new code"


class NotPaired(PermissionDenied):
    """No valid device behind the request (no cookie, a forged one, revoked, expired): 401."""


class Refused(PermissionDenied):
    """A request the service will not take (another site's, or not from its page): 403."""


class _Stores:
    """One store per worker thread, opened on first use; all closed when the service stops."""

    def __init__(self, open_store: Callable[[], object]) -> None:
        self.open_store = open_store
        self._local = threading.local()
        self._all: list = []
        self._lock = threading.Lock()

    def get(self):
        store = getattr(self._local, "store", None)
        if store is None:
            store = self._local.store = self.open_store()
            with self._lock:
                self._all.append(store)
        return store

    def close_all(self) -> None:
        with self._lock:
            stores, self._all = self._all, []
        for store in stores:
            with contextlib.suppress(Exception):
                store.close()


def _device(store, token: str) -> pairing.Device:
    try:
        return pairing.device_for(store, token or "")
    except PermissionDenied:
        raise NotPaired(pairing.NOT_PAIRED) from None


def _me(device: pairing.Device) -> dict:
    return {"officer": device.officer, "display_name": device.display_name, "deployment_id": device.deployment_id,
            "expires_at": device.expires_at}


def _seconds_until(when: str) -> int:
    left = datetime.fromisoformat(when.replace("Z", "+00:00")) - clock.now()
    return max(0, int(left.total_seconds()))


async def _body(request: Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        raise ConsoleError("the request's body is not JSON") from None
    if not isinstance(body, dict):
        raise ConsoleError("the request's body must be a JSON object")
    return body


def _check_post(request: Request) -> None:
    why = csrf_refusal(request.method, request.headers, request.url.scheme, request.url.netloc)
    if why:
        raise Refused(why)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _handlers() -> dict:
    async def not_paired(request, exc):
        return _error(401, pairing.NOT_PAIRED)

    async def denied(request, exc):
        return _error(403, redact(str(exc)) or "not allowed")

    async def conflict(request, exc):
        return _error(409, redact(str(exc)))

    async def unavailable(request, exc):
        return _error(503, "the record cannot be reached just now: tell the control room by radio")

    async def refused(request, exc):
        return _error(400, redact(str(exc)))

    return {NotPaired: not_paired, PermissionDenied: denied, dispatch.DispatchConflict: conflict,
            StoreError: unavailable, ConsoleError: refused}


def make_app(open_store: Callable[[], object], *, feed_interval_s: float = 0.2,
             limiter: PairingLimiter | None = None) -> Starlette:
    """The officer's page and API over the store that ``open_store()`` opens (called once per thread)."""
    stores = _Stores(open_store)
    hub = Hub(open_store, feed_interval_s)
    limiter = limiter or PairingLimiter()
    page = (STATIC / "handheld.html").read_text(encoding="utf-8")

    async def on_store(fn: Callable, *args):
        return await run_in_threadpool(lambda: fn(stores.get(), *args))

    async def as_device(request: Request, fn: Callable, *args):
        """fn(store, device, *args) for the request's own device; NotPaired (401) when it has none."""
        token = request.cookies.get(COOKIE, "")
        return await on_store(lambda store: fn(store, _device(store, token), *args))

    async def officer_page(request: Request) -> Response:
        return HTMLResponse(page)

    async def api_pair(request: Request) -> Response:
        _check_post(request)
        client = request.client.host if request.client else ""
        if limiter.blocked(client):
            return JSONResponse({"error": TOO_MANY}, status_code=429, headers={"Retry-After": str(int(limiter.block_s))})
        body = await _body(request)
        code, label = body.get("code"), body.get("label", "")
        if not isinstance(code, str) or not isinstance(label, str):
            raise ConsoleError("the pairing code and the phone's label must be text")
        try:
            token, device = await on_store(pairing.pair, code[:64], label[:200], client)
        except pairing.PairingError:
            limiter.refused(client)
            return _error(403, pairing.REFUSED)
        response = JSONResponse(_me(device))
        response.set_cookie(COOKIE, token, max_age=_seconds_until(device.expires_at), path="/", secure=True,
                            httponly=True, samesite="strict")
        return response

    async def api_me(request: Request) -> Response:
        return JSONResponse(await as_device(request, lambda store, device: _me(device)))

    async def api_inbox(request: Request) -> Response:
        return JSONResponse(await as_device(request, dispatch.inbox))

    async def api_card(request: Request) -> Response:
        return JSONResponse(await as_device(request, dispatch.card, request.path_params["dispatch_id"]))

    async def api_image(request: Request) -> Response:
        data = await as_device(request, dispatch.image, request.path_params["dispatch_id"], request.path_params["which"])
        return Response(data, media_type="image/jpeg")

    async def api_outcome(request: Request) -> Response:
        _check_post(request)
        body = await _body(request)
        located, same, action, note = (body.get("located"), body.get("same_person"), body.get("action", ""),
                                       body.get("note", ""))
        if not isinstance(located, bool) or not (same is None or isinstance(same, bool)):
            raise ConsoleError("say whether the person was located (yes or no) and, if so, whether it is the same person")
        if not isinstance(action, str) or not isinstance(note, str):
            raise ConsoleError("the action and the note must be text")
        engagement_id = await as_device(request, dispatch.record_outcome, request.path_params["dispatch_id"], located,
                                        same if located else None, action, note)
        return JSONResponse({"engagement_id": engagement_id})

    async def api_signout(request: Request) -> Response:
        _check_post(request)
        await as_device(request, pairing.sign_out)
        response = JSONResponse({"signed_out": True})
        response.delete_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="strict")
        return response

    async def api_events(request: Request) -> Response:
        token = request.cookies.get(COOKIE, "")
        await on_store(_device, token)  # 401 before any stream starts

        async def paired() -> bool:
            try:
                await on_store(_device, token)
                return True
            except NotPaired:
                return False

        async def stream():
            sub = hub.subscribe()
            try:
                yield "retry: 2000\n: connected\n\n"
                while True:
                    woke = False
                    try:
                        await asyncio.wait_for(sub[1].wait(), PING_S)
                        woke = True
                    except TimeoutError:
                        pass
                    sub[1].clear()
                    if not await paired():
                        yield "event: unpaired\ndata: {}\n\n"
                        return
                    yield "event: changed\ndata: {}\n\n" if woke else ": ping\n\n"
            finally:
                hub.unsubscribe(sub)

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"})

    @contextlib.asynccontextmanager
    async def lifespan(app):
        hub.start()
        try:
            yield
        finally:
            hub.stop()
            stores.close_all()

    routes = [
        Route("/", officer_page),
        Route("/pair", officer_page),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        Route("/api/pair", api_pair, methods=["POST"]),
        Route("/api/me", api_me),
        Route("/api/inbox", api_inbox),
        Route("/api/events", api_events),
        Route("/api/dispatch/{dispatch_id:int}", api_card),
        Route("/api/dispatch/{dispatch_id:int}/image/{which}", api_image),
        Route("/api/dispatch/{dispatch_id:int}/outcome", api_outcome, methods=["POST"]),
        Route("/api/signout", api_signout, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)], exception_handlers=_handlers(),
                    lifespan=lifespan)
    app.state.hub, app.state.stores, app.state.limiter = hub, stores, limiter
    return app
