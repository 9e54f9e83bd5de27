"""The handheld guard's parts on their own, exactly (mutation check, issue 32): the headers every
answer carries, the one-sentence failure, the CSRF rule and the pairing limiter's edges in time.
tests/unit/test_handheld_web.py tries them through the real service."""

from __future__ import annotations

import asyncio
import json
import logging

from console.handheld import guard
from console.handheld.guard import FAILED, HEADERS, PairingLimiter, SecurityHeaders, csrf_refusal

RAW = [(k.encode(), v.encode()) for k, v in HEADERS.items()]


def _run(app, scope=None) -> list[dict]:
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request"}

    async def send(message):
        sent.append(message)

    asyncio.run(SecurityHeaders(app)(scope or {"type": "http", "method": "GET", "path": "/x"}, receive, send))
    return sent


def test_every_answer_gets_the_headers_once_replacing_the_apps_and_its_validators():
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"Cache-Control", b"max-age=9"), (b"etag", b"x"), (b"Last-Modified", b"y"),
                                (b"x-mine", b"1")]})
        await send({"type": "http.response.body", "body": b"ok"})

    sent = _run(app)
    assert sent == [{"type": "http.response.start", "status": 200, "headers": [(b"x-mine", b"1"), *RAW]},
                    {"type": "http.response.body", "body": b"ok"}]
    assert HEADERS["cache-control"] == "no-store" and "frame-ancestors 'none'" in HEADERS["content-security-policy"]


def test_other_scopes_pass_through_untouched():
    async def app(scope, receive, send):
        await send({"type": "websocket.accept", "headers": [(b"etag", b"x")]})

    assert _run(app, {"type": "websocket"}) == [{"type": "websocket.accept", "headers": [(b"etag", b"x")]}]


def test_a_failure_before_the_answer_is_one_json_sentence_and_one_log_line(caplog):
    async def app(scope, receive, send):
        raise KeyError("secret detail")

    with caplog.at_level(logging.ERROR, logger="console.handheld"):
        sent = _run(app, {"type": "http", "method": "POST", "path": "/api/outcome"})
    body = json.dumps({"error": FAILED}).encode()
    assert sent == [{"type": "http.response.start", "status": 500,
                     "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                 *RAW]},
                    {"type": "http.response.body", "body": body}]
    assert [r.getMessage() for r in caplog.records] == ["handheld request POST /api/outcome failed: KeyError"]


def test_a_failure_after_the_answer_began_sends_nothing_more():
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise RuntimeError("mid-stream")

    assert _run(app) == [{"type": "http.response.start", "status": 200, "headers": RAW}]


def test_csrf_a_post_needs_the_header_and_our_own_origin():
    ours = ("https", "10.0.0.2:8443")
    assert csrf_refusal("GET", {}, *ours) == ""
    assert csrf_refusal("POST", {}, *ours) == "refused: the request did not come from the handheld page"
    assert csrf_refusal("POST", {"x-orc-handheld": "true"}, *ours) == "refused: the request did not come from the handheld page"
    assert csrf_refusal("POST", {"x-orc-handheld": "1"}, *ours) == ""
    assert csrf_refusal("POST", {"x-orc-handheld": "1", "origin": "https://10.0.0.2:8443"}, *ours) == ""
    assert csrf_refusal("POST", {"x-orc-handheld": "1", "origin": "http://10.0.0.2:8443"}, *ours) == \
        "refused: the request came from another site"
    assert guard.CSRF_HEADER == "x-orc-handheld"


def test_the_limiter_blocks_at_the_limit_within_the_window_for_exactly_the_block():
    t = [100.0]
    lim = PairingLimiter(now=lambda: t[0])
    assert (lim.limit, lim.window_s, lim.block_s) == (5, 60.0, 60.0)
    for _ in range(4):
        lim.refused("a")
    assert not lim.blocked("a") and not lim.blocked("b")
    t[0] = 160.0  # the first four are exactly a window old: they no longer count
    lim.refused("a")
    assert not lim.blocked("a")
    for _ in range(4):
        lim.refused("a")
    assert lim.blocked("a") and not lim.blocked("b")
    t[0] = 219.99
    assert lim.blocked("a")
    t[0] = 220.0  # blocked for exactly block_s
    assert not lim.blocked("a")
    lim.refused("a")  # the count started again at the block
    assert not lim.blocked("a")


def test_the_limiter_forgets_spent_addresses_past_ten_thousand():
    lim = PairingLimiter(limit=2, now=lambda: 5.0)
    lim.refused("spent")
    lim.refused("spent")  # blocked; its count is cleared
    for i in range(9_998):
        lim._refusals[f"c{i}"] = guard.deque([5.0])
    lim.refused("x")
    assert len(lim._refusals) == 10_000 and "spent" in lim._refusals
    lim.refused("y")
    assert "spent" not in lim._refusals and len(lim._refusals) == 10_000


def test_an_answer_without_headers_of_its_own_gets_ours():
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 204})  # ASGI: headers are optional

    assert _run(app) == [{"type": "http.response.start", "status": 204, "headers": RAW}]
