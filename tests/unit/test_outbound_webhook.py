"""Outbound events: exactly the human-confirmed alerts reach dispatch - a real HTTP server on
127.0.0.1 in a thread, and a JSON-lines file - signed, retried, and logged."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from console.errors import PermissionDenied
from console.services.accounts.auth import actor_for
from console.services.decisions import adjudication, outbound
from console.services.setup import deployments
from console.store import audit, repo
from tests.factories import small_deployment, wait_for


class Receiver:
    """A local dispatch endpoint: records every POST; answers 500 to the first ``fail_first``."""

    def __init__(self, fail_first: int = 0) -> None:
        self.bodies: list[bytes] = []
        self.headers: list[dict] = []
        self.tries = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.tries += 1
                ok = receiver.tries > fail_first
                if ok:
                    receiver.bodies.append(body)
                    receiver.headers.append({k.lower(): v for k, v in self.headers.items()})
                self.send_response(200 if ok else 500)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/dispatch"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self) -> list[dict]:
        return [json.loads(b) for b in self.bodies]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def world(store):
    small = small_deployment(store, operators=("op", "op2"))
    repo.create_user(store, "admin", "Admin", "administrator")
    yield store, small
    outbound.close(store)


def _sender(store, **kw):
    store.outbound = outbound.Dispatcher(store, **kw)
    return store.outbound


def confirm(store, actor, alert_id):
    adjudication.open_alert(store, actor, alert_id)  # a decision is made on an alert open on the reviewer's screen
    return adjudication.confirm(store, actor, alert_id)


def reject(store, actor, alert_id):
    adjudication.open_alert(store, actor, alert_id)
    return adjudication.reject(store, actor, alert_id, "different_person")


def _logged(store, action):
    return [json.loads(r["details_json"]) for r in
            store.query("SELECT details_json FROM audit_log WHERE action = ? ORDER BY seq", (action,))]


def test_webhook_receives_exactly_the_confirmed_alerts(world, tmp_path):
    store, small = world
    server = Receiver()
    try:
        admin, op, op2 = (actor_for(store, n) for n in ("admin", "op", "op2"))
        config = outbound.configure(store, admin, small.deployment_id, webhook_url=server.url, secret="new",
                                    secrets_dir=tmp_path / "secrets", jsonl_path=str(tmp_path / "dispatch.jsonl"))
        key = (tmp_path / "secrets" / f"outbound-{small.deployment_id}.key").read_text()
        assert len(key) == 64 and (tmp_path / "secrets" / f"outbound-{small.deployment_id}.key").stat().st_mode & 0o077 == 0
        assert key not in json.dumps(config) and key not in json.dumps(_logged(store, "setting.changed"))
        sender = _sender(store, base_s=0.05)
        confirmed, rejected = small.alert(track=1), small.alert(track=2)
        confirm(store, op, confirmed)
        reject(store, op, rejected)
        # the two-person rule: the first confirmation is not final and sends nothing
        sup = actor_for(store, "sup")
        deployments.set_two_person_rule(store, sup, small.deployment_id, True, "policy")
        twice = small.alert(track=3)
        assert confirm(store, op, twice) is None
        assert sender.wait_idle(10)
        assert [e["alert_id"] for e in server.events()] == [confirmed]
        confirm(store, op2, twice)
        assert sender.wait_idle(10)
        events = server.events()
        assert [e["alert_id"] for e in events] == [confirmed, twice]
        assert [e["confirmations"] for e in events] == [1, 2]
        first = events[0]
        assert first["schema"] == outbound.SCHEMA and first["watchlist"] == {"record_number": "R-1",
                                                                               "category": "missing_person"}
        assert first["camera"] == "Cam" and first["deployment"]["id"] == small.deployment_id
        # no name, no image, no score, no operator: only what dispatch needs
        assert set(first) == {"schema", "event_id", "deployment", "alert_id", "incident_id", "camera", "seen_at",
                              "confirmed_at", "confirmations", "watchlist"}
        text = server.bodies[0].decode()
        for absent in ("subject", "name\":\"P", "score", "probe", "jpeg", "\"op\"", "user"):
            assert absent not in text, absent
        # every body is signed with the deployment's key
        for body, headers in zip(server.bodies, server.headers, strict=True):
            expected = "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
            assert headers[outbound.SIGNATURE_HEADER.lower()] == expected
        lines = [json.loads(x) for x in (tmp_path / "dispatch.jsonl").read_text().splitlines()]
        assert [x["alert_id"] for x in lines] == [confirmed, twice]
        sends = _logged(store, "outbound.webhook")
        assert [(s["outcome"], s["attempt"]) for s in sends] == [("delivered", 1), ("delivered", 1)]
        assert all(key not in json.dumps(s) for s in sends)
        assert audit.verify_chain(store).ok and audit.verify_records(store) == []
    finally:
        server.close()


def test_webhook_retries_with_backoff_until_the_endpoint_answers(world):
    store, small = world
    server = Receiver(fail_first=2)
    try:
        outbound.configure(store, actor_for(store, "admin"), small.deployment_id, webhook_url=server.url)
        sender = _sender(store, base_s=0.05)
        alert_id = small.alert()
        confirm(store, actor_for(store, "op"), alert_id)  # returns at once, whatever the endpoint does
        assert sender.wait_idle(10)
        assert server.tries == 3 and [e["alert_id"] for e in server.events()] == [alert_id]
        sends = _logged(store, "outbound.webhook")
        assert [(s["outcome"], s["attempt"], s["status"]) for s in sends] == [
            ("retry", 1, 500), ("retry", 2, 500), ("delivered", 3, 200)]
        assert [s["retry_in_s"] for s in sends[:2]] == [0.05, 0.1]  # exponential
    finally:
        server.close()


def test_webhook_to_a_dead_endpoint_gives_up_without_holding_decisions(world):
    store, small = world
    dead = Receiver()
    url = dead.url
    dead.close()  # nothing listens there any more
    outbound.configure(store, actor_for(store, "admin"), small.deployment_id, webhook_url=url)
    sender = _sender(store, base_s=0.02, max_attempts=3)
    op = actor_for(store, "op")
    for track in (1, 2):
        confirm(store, op, small.alert(track=track))
    assert store.one("SELECT COUNT(*) AS n FROM decisions")["n"] == 2
    assert wait_for(lambda: len(_logged(store, "outbound.webhook")) == 6, 10)
    assert sender.wait_idle(5)
    outcomes = [s["outcome"] for s in _logged(store, "outbound.webhook")]
    assert outcomes.count("gave_up") == 2 and outcomes.count("retry") == 4


def test_webhook_jsonl_file_gets_one_line_per_confirmed_alert(world, tmp_path):
    store, small = world
    path = tmp_path / "out" / "dispatch.jsonl"
    outbound.configure(store, actor_for(store, "admin"), small.deployment_id, jsonl_path=str(path))
    op = actor_for(store, "op")
    a, b, c = (small.alert(track=t) for t in (1, 2, 3))
    confirm(store, op, a)
    reject(store, op, b)
    confirm(store, op, c)
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert [x["alert_id"] for x in lines] == [a, c]
    assert [x["outcome"] for x in _logged(store, "outbound.file")] == ["written", "written"]
    assert getattr(store, "outbound", None) is None  # no webhook configured: no sender thread


def test_webhook_configuration_is_an_administrators_and_https_only(world, tmp_path):
    store, small = world
    with pytest.raises(PermissionDenied):
        outbound.configure(store, actor_for(store, "sup"), small.deployment_id, webhook_url="https://x.example/")
    admin = actor_for(store, "admin")
    with pytest.raises(outbound.OutboundError, match="https"):
        outbound.configure(store, admin, small.deployment_id, webhook_url="http://dispatch.example/hook")
    config = outbound.configure(store, admin, small.deployment_id,
                                webhook_url="https://user:pw@dispatch.example/hook")
    assert "pw" not in outbound.describe(config)["webhook_url"]
    assert outbound.config_of(store, small.deployment_id)["webhook_url"].startswith("https://")
    outbound.configure(store, admin, small.deployment_id)  # neither target: switched off
    assert outbound.config_of(store, small.deployment_id) == {}
    assert audit.verify_records(store) == []
