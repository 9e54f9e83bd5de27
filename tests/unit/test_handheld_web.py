"""The handheld web service's own guards, through its HTTP interface (Starlette's test client over
https://testserver, a real store on SQLite and PostgreSQL): who may ask for what, replay and forgery,
guessed codes, and the headers that keep data off the phone. The event stream runs on a real HTTPS
server (tests/unit/test_handheld_stream.py)."""

from __future__ import annotations

import logging
import secrets

import pytest
from starlette.testclient import TestClient

from console.handheld.app import COOKIE, make_app
from console.handheld.guard import CSP, PairingLimiter
from console.services.accounts.auth import actor_for
from console.services.decisions import adjudication
from console.services.engage import dispatch, pairing
from console.store import audit, handheld, ledger, repo, runtime
from tests.factories import small_deployment

POST = {"X-ORC-Handheld": "1"}
NONE = {"handheld": 0, "relayed": 0}
OUTCOME = {"located": True, "same_person": True, "action": "arrest", "note": ""}
NO_STORE = {"cache-control": "no-store", "pragma": "no-cache", "referrer-policy": "no-referrer",
            "x-content-type-options": "nosniff", "x-frame-options": "DENY", "content-security-policy": CSP}


@pytest.fixture
def room(db):
    d = small_deployment(db, operators=("op",))
    for name in ("pc1", "pc2", "pc3"):
        repo.create_user(db, name, name.upper().replace("PC", "PC "), "engagement_officer")
    other = repo.create_deployment(db, repo.DeploymentSpec("D2", "P2", "R", "2026-01-01T00:00:00Z", "2099-01-01T00:00:00Z",
                                                           0.4, 0.363, "m"), d.supervisor_id, "sup")
    repo.activate_deployment(db, other, "sup")
    return {"store": db, "d": d, "sup": actor_for(db, "sup"), "op": actor_for(db, "op"), "other": other}


@pytest.fixture
def client(room):
    with TestClient(make_app(room["store"].reopen, feed_interval_s=0.1), base_url="https://testserver") as c:
        yield c


def code_for(room, officer="pc1", deployment_id=None) -> str:
    return pairing.start_pairing(room["store"], room["sup"], officer, deployment_id or room["d"].deployment_id).code


def pair_client(client, room, officer="pc1", deployment_id=None):
    r = client.post("/api/pair", json={"code": code_for(room, officer, deployment_id), "label": "phone"}, headers=POST)
    assert r.status_code == 200, r.text
    return r


def device_of(room, token):
    return pairing.device_for(room["store"], token)


def dispatched(room, officer=None, note="scar on the left cheek") -> dispatch.Sent:
    store, op = room["store"], room["op"]
    alert_id = room["d"].alert()
    adjudication.open_alert(store, op, alert_id)
    adjudication.confirm(store, op, alert_id, note)
    return dispatch.send(store, op, alert_id, officer)


def api_calls(dispatch_id: int) -> list[tuple[str, str]]:
    return [("GET", "/api/me"), ("GET", "/api/inbox"), ("GET", "/api/events"), ("GET", f"/api/dispatch/{dispatch_id}"),
            *[("GET", f"/api/dispatch/{dispatch_id}/image/{w}") for w in dispatch.IMAGES],
            ("POST", f"/api/dispatch/{dispatch_id}/outcome"), ("POST", "/api/signout")]


def request(client, method, path, cookies=None):
    """A request as the page makes it (header and same-origin Origin on a POST), with ``cookies`` only."""
    client.cookies.clear()
    for k, v in (cookies or {}).items():
        client.cookies.set(k, v)
    if method == "POST":
        return client.post(path, json=OUTCOME, headers={**POST, "Origin": "https://testserver"})
    return client.get(path)


def logged(room, action: str) -> list:
    return [r for r in runtime.audit_entries_after(room["store"], 0) if r["action"] == action]


def engagements(room) -> dict:
    return handheld.engagement_sources(room["store"], room["d"].deployment_id)


def test_an_unpaired_phone_gets_401_on_every_api_route(room, client):
    pair_client(client, room, "pc2")
    sent = dispatched(room)
    forged = [None, {COOKIE: pairing.TOKEN_PREFIX + secrets.token_urlsafe(32)}, {COOKIE: "anything"}, {COOKIE: ""},
              {"session": pairing.TOKEN_PREFIX + "x"}]
    for cookies in forged:
        for method, path in api_calls(sent.dispatch_id):
            r = request(client, method, path, cookies)
            assert r.status_code == 401, (cookies, path, r.status_code)
            assert r.json() == {"error": pairing.NOT_PAIRED}
    assert engagements(room) == NONE
    assert dispatch.delivery(room["store"], room["op"], sent.alert_id).state == "sent"  # nobody saw it


def test_a_revoked_or_signed_out_phone_gets_401_and_writes_nothing(room, client):
    token = pair_client(client, room).cookies[COOKIE]
    sent = dispatched(room)
    assert client.get("/api/inbox").json()[0]["dispatch_id"] == sent.dispatch_id
    pairing.revoke(room["store"], room["sup"], device_of(room, token).device_id, "phone lost")
    for method, path in api_calls(sent.dispatch_id):
        assert request(client, method, path, {COOKIE: token}).status_code == 401, path
    assert engagements(room) == NONE

    token = pair_client(client, room, "pc2").cookies[COOKIE]
    r = client.post("/api/signout", headers=POST)
    assert r.status_code == 200 and f'{COOKIE}=""' in r.headers["set-cookie"] and "Max-Age=0" in r.headers["set-cookie"]
    assert request(client, "GET", "/api/me", {COOKIE: token}).status_code == 401
    assert len(logged(room, "handheld.signed_out")) == 1


def test_the_pairing_cookie_is_httponly_secure_strict_and_lasts_the_device(room, client):
    r = pair_client(client, room)
    body, cookie = r.json(), r.headers["set-cookie"]
    assert body["officer"] == "pc1" and body["deployment_id"] == room["d"].deployment_id and body["expires_at"]
    for part in ("HttpOnly", "Secure", "SameSite=strict", "Path=/"):
        assert part.lower() in cookie.lower(), cookie
    max_age = int(cookie.lower().split("max-age=")[1].split(";")[0])
    assert abs(max_age - pairing.DEVICE_TTL.total_seconds()) < 60
    assert client.get("/api/me").json()["display_name"] == "PC 1"


def test_an_officer_of_another_deployment_or_not_addressed_is_refused(room, client):
    sent = dispatched(room, officer=None)  # to this deployment's team
    pair_client(client, room, "pc3", room["other"])
    assert client.get("/api/inbox").json() == []
    for path in (f"/api/dispatch/{sent.dispatch_id}", f"/api/dispatch/{sent.dispatch_id}/image/photo"):
        r = client.get(path)
        assert r.status_code == 403 and "no such incident" in r.json()["error"]
    r = client.post(f"/api/dispatch/{sent.dispatch_id}/outcome", json=OUTCOME, headers=POST)
    assert r.status_code == 403
    refused = logged(room, "access.refused")
    assert len(refused) == 3 and all(e["actor"] == "pc3" for e in refused)
    assert engagements(room) == NONE


def test_a_replayed_outcome_gets_409_and_makes_no_second_engagement(room, client):
    pair_client(client, room)
    sent = dispatched(room)
    assert client.get(f"/api/dispatch/{sent.dispatch_id}").json()["state"] == "open"
    first = client.post(f"/api/dispatch/{sent.dispatch_id}/outcome", json=OUTCOME, headers=POST)
    assert first.status_code == 200 and first.json()["engagement_id"]
    for body in (OUTCOME, {**OUTCOME, "same_person": False, "action": "words_of_advice"}):
        again = client.post(f"/api/dispatch/{sent.dispatch_id}/outcome", json=body, headers=POST)
        assert again.status_code == 409 and "already recorded" in again.json()["error"]
    assert engagements(room) == {"handheld": 1, "relayed": 0}
    d = dispatch.delivery(room["store"], room["op"], sent.alert_id)
    assert d.outcome["by"] == "pc1" and d.outcome["via"] == "handheld" and d.outcome["action"] == "arrest"
    assert client.get(f"/api/dispatch/{sent.dispatch_id}").json()["state"] == "closed"
    assert ledger.verify(room["store"]) == [] and audit.verify_chain(room["store"]).ok


@pytest.mark.parametrize("body, why", [
    ({**OUTCOME, "located": "yes"}, "located"),
    ({**OUTCOME, "located": 1}, "located"),
    ({**OUTCOME, "same_person": "maybe"}, "same person"),
    ({**OUTCOME, "same_person": None}, "same person"),  # located, but identity not checked: refused
    ({**OUTCOME, "action": "shoot"}, "unknown action"),
    ({**OUTCOME, "action": ["arrest"]}, "text"),
    ({**OUTCOME, "action": "other", "note": "   "}, "needs a note"),
    ([OUTCOME], "JSON object"),
])
def test_a_forged_outcome_body_is_refused(room, client, body, why):
    pair_client(client, room)
    sent = dispatched(room)
    client.get(f"/api/dispatch/{sent.dispatch_id}")
    r = client.post(f"/api/dispatch/{sent.dispatch_id}/outcome", json=body, headers=POST)
    assert r.status_code == 400 and why in r.json()["error"], r.text
    assert engagements(room) == NONE
    assert client.post(f"/api/dispatch/{sent.dispatch_id}/outcome", json=OUTCOME, headers=POST).status_code == 200


def test_a_forged_outcome_request_is_refused(room, client):
    pair_client(client, room)
    pc2 = TestClient(client.app, base_url="https://testserver")
    pair_client(pc2, room, "pc2")
    to_other = dispatched(room, officer="pc2")  # pc2 has a phone too, in this deployment
    mine = dispatched(room, officer="pc1")
    client.get(f"/api/dispatch/{mine.dispatch_id}")
    path = f"/api/dispatch/{mine.dispatch_id}/outcome"
    refusals = [
        client.post(f"/api/dispatch/{to_other.dispatch_id}/outcome", json=OUTCOME, headers=POST),  # not addressed to pc1
        client.post("/api/dispatch/999999/outcome", json=OUTCOME, headers=POST),  # no such dispatch
        client.post(path, json=OUTCOME),  # no X-ORC-Handheld: a form or script from elsewhere
        client.post(path, json=OUTCOME, headers={"X-ORC-Handheld": "0"}),
        client.post(path, json=OUTCOME, headers={**POST, "Origin": "https://evil.example"}),
        client.post(path, json=OUTCOME, headers={**POST, "Origin": "http://testserver"}),  # not even our scheme
        client.post(path, json=OUTCOME, headers={**POST, "Origin": "null"}),
    ]
    assert [r.status_code for r in refusals] == [403] * len(refusals), [r.text for r in refusals]
    assert engagements(room) == NONE
    ok = client.post(path, json=OUTCOME, headers={**POST, "Origin": "https://testserver"})  # our own page
    assert ok.status_code == 200
    assert engagements(room) == {"handheld": 1, "relayed": 0}
    assert pc2.post("/api/signout", headers={**POST, "Origin": "https://evil.example"}).status_code == 403
    assert pc2.get("/api/me").status_code == 200  # a cross-site sign-out did not sign pc2 out


def test_guessed_pairing_codes_get_403_then_429_even_for_the_right_code(room, client):
    now = [1000.0]
    limited = TestClient(make_app(room["store"].reopen, limiter=PairingLimiter(now=lambda: now[0])),
                         base_url="https://testserver")
    right = code_for(room)
    for n in range(5):
        r = limited.post("/api/pair", json={"code": f"ZZZZZ-{n:05d}"}, headers=POST)
        assert r.status_code == 403 and r.json() == {"error": pairing.REFUSED}
    r = limited.post("/api/pair", json={"code": right}, headers=POST)
    assert r.status_code == 429 and r.headers["retry-after"] == "60" and COOKIE not in r.cookies
    assert r.headers["cache-control"] == "no-store"
    now[0] += 59
    assert limited.post("/api/pair", json={"code": right}, headers=POST).status_code == 429
    now[0] += 2
    assert limited.post("/api/pair", json={"code": right}, headers=POST).status_code == 200
    refused = logged(room, "handheld.pairing_refused")
    assert len(refused) == 5  # the 429s never reached the store: the address was cut off first
    assert limited.post("/api/pair", json={"code": right}, headers={"Origin": "https://testserver"}).status_code == 403


def test_the_pairing_limit_counts_refusals_of_the_last_minute(room, client):
    now = [0.0]
    limiter = PairingLimiter(now=lambda: now[0])
    app = TestClient(make_app(room["store"].reopen, limiter=limiter), base_url="https://testserver")
    for n in range(8):  # one guess every 15 s: never 5 within a minute
        now[0] += 15
        assert app.post("/api/pair", json={"code": f"ZZZZZ-{n:05d}"}, headers=POST).status_code == 403
    now[0] += 45  # the last minute holds one of them
    for n in range(4):  # and 4 more make 5
        assert app.post("/api/pair", json={"code": f"YYYYY-{n:05d}"}, headers=POST).status_code == 403
    assert app.post("/api/pair", json={"code": "YYYYY-99999"}, headers=POST).status_code == 429
    assert app.post("/api/pair", json={"code": code_for(room)}, headers=POST).status_code == 429


def test_no_store_and_the_other_headers_on_pages_json_images_and_errors(room, client):
    responses = {"page /": client.get("/"), "page /pair": client.get("/pair"), "js": client.get("/static/handheld.js"),
                 "css": client.get("/static/handheld.css"), "401": client.get("/api/me"),
                 "404": client.get("/nothing-here")}
    pair_client(client, room)
    sent = dispatched(room)
    responses["json"] = client.get(f"/api/dispatch/{sent.dispatch_id}")
    responses["image"] = client.get(f"/api/dispatch/{sent.dispatch_id}/image/photo")
    responses["400"] = client.get(f"/api/dispatch/{sent.dispatch_id}/image/passport")
    assert responses["image"].headers["content-type"] == "image/jpeg" and responses["image"].content == b"j"
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in responses["page /"].text
    assert "<script>" not in responses["page /"].text and "onclick" not in responses["page /"].text
    for name, r in responses.items():
        for header, value in NO_STORE.items():
            assert r.headers.get(header) == value, (name, header, r.headers.get(header))
        assert r.headers["strict-transport-security"].startswith("max-age=")
        assert "etag" not in r.headers and "last-modified" not in r.headers, name


def test_an_image_of_a_closed_or_expired_incident_is_refused(room, client, monkeypatch):
    from console import clock

    pair_client(client, room)
    closed, expired = dispatched(room), dispatched(room)
    for sent in (closed, expired):
        assert client.get(f"/api/dispatch/{sent.dispatch_id}/image/capture").status_code == 403  # not opened yet
        client.get(f"/api/dispatch/{sent.dispatch_id}")
        assert client.get(f"/api/dispatch/{sent.dispatch_id}/image/capture").status_code == 200
    assert client.post(f"/api/dispatch/{closed.dispatch_id}/outcome", json=OUTCOME, headers=POST).status_code == 200
    for which in dispatch.IMAGES:
        r = client.get(f"/api/dispatch/{closed.dispatch_id}/image/{which}")
        assert r.status_code == 403 and r.headers["content-type"].startswith("application/json")
    later = clock.wall() + dispatch.OPEN_FOR.total_seconds() + 1
    monkeypatch.setattr(clock, "_wall", lambda: later)
    assert client.get(f"/api/dispatch/{expired.dispatch_id}/image/face").status_code == 403
    assert client.get(f"/api/dispatch/{expired.dispatch_id}").json()["state"] == "expired"
    r = client.post(f"/api/dispatch/{expired.dispatch_id}/outcome", json=OUTCOME, headers=POST)
    assert r.status_code == 409 and "expired" in r.json()["error"]


def test_a_failure_reaches_the_phone_as_one_sentence_and_no_secret_is_logged(room, capsys, caplog):
    caplog.set_level(logging.DEBUG)

    def broken():
        raise RuntimeError("the disk is on fire at /secret/path")

    with TestClient(make_app(broken), base_url="https://testserver") as c:
        r = c.get("/api/me")
    assert r.status_code == 500 and r.json() == {"error": "the handheld service failed: tell the control room by radio"}
    assert r.headers["cache-control"] == "no-store" and "Traceback" not in r.text and "fire" not in r.text
    with TestClient(make_app(room["store"].reopen), base_url="https://testserver") as c:
        code = code_for(room)
        token = c.post("/api/pair", json={"code": code, "label": "phone"}, headers=POST).cookies[COOKIE]
        c.get("/api/me")
        c.post("/api/pair", json={"code": code}, headers=POST)  # a used code, refused
    said = capsys.readouterr()
    logged = said.out + said.err + caplog.text
    for secret in (token, code, code.replace("-", "")):
        assert secret not in logged
