"""Outbound events' parts, exactly (mutation check, issue 32): which URLs may receive, what the
configuration keeps and shows, the file line's and each webhook attempt's log entry, the backoff
and the give-up. tests/unit/test_outbound_webhook.py runs them end to end."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from console.errors import PermissionDenied
from console.services.accounts.auth import Actor, actor_for
from console.services.decisions import outbound
from console.services.decisions.outbound import OutboundError
from console.store import repo
from tests.factories import small_deployment
from tests.unit.test_outbound_webhook import Receiver

EVENT = {"event_id": "1-7", "alert_id": 5, "schema": outbound.SCHEMA}


@pytest.fixture
def room(store):
    d = small_deployment(store, operators=("op",))
    repo.create_user(store, "admin", "Admin", "administrator")
    yield store, d.deployment_id, actor_for(store, "admin")
    outbound.close(store)


def log(store, action):
    return [(r["actor"], r["subject_type"], r["subject_id"], json.loads(r["details_json"]))
            for r in store.query("SELECT * FROM audit_log WHERE action = ? ORDER BY seq", (action,))]


def refused(fn, *args, **kw) -> str:
    with pytest.raises(OutboundError) as caught:
        fn(*args, **kw)
    return str(caught.value)


def test_only_https_or_plain_http_to_this_machine():
    for url in ("https://dispatch.example/x", "http://localhost:8080/x", "http://127.0.0.1/x", "http://[::1]:9/x"):
        assert outbound.check_url(url) == url
    for url in ("http://dispatch.example/x", "https:///nohost", "ftp://localhost/x", "localhost/x"):
        assert refused(outbound.check_url, url) == "a webhook must be an https:// URL (plain http only to localhost)"
    assert outbound.scope(7) == "deployment/7"


def test_configure_keeps_what_it_was_given_and_shows_no_secret(room, tmp_path):
    store, dep, admin = room
    config = outbound.configure(store, admin, dep, webhook_url="  https://u:pw@dispatch.example/in ",
                                jsonl_path=str(tmp_path / "a" / ".." / "out.jsonl"), secret="k3y",
                                secrets_dir=tmp_path / "keys", mqtt={"url": "mqtts://m:pw@broker/", "topics": ["a", "b"]})
    key_file = tmp_path / "keys" / f"outbound-{dep}.key"
    assert config == {"webhook_url": "https://u:pw@dispatch.example/in", "jsonl_path": str(tmp_path / "out.jsonl"),
                      "mqtt": {"url": "mqtts://m:pw@broker/", "topics": ["a", "b"]}, "secret_file": str(key_file)}
    assert key_file.read_text() == "k3y" and key_file.stat().st_mode & 0o777 == 0o600
    assert outbound.config_of(store, dep) == config
    assert outbound.describe(config) == {"webhook_url": "https://***@dispatch.example/in", "signed": True,
                                         "jsonl_path": str(tmp_path / "out.jsonl"), "secret_file": str(key_file),
                                         "mqtt_url": "mqtts://***@broker/", "mqtt_topics": "a,b"}
    changed = log(store, "setting.changed")[-1]
    assert changed[:3] == ("admin", "setting", f"deployment/{dep}/outbound")
    assert changed[3]["reason"] == "outbound events configured"
    outbound.configure(store, admin, dep, reason="no more")
    assert outbound.config_of(store, dep) == {} and log(store, "setting.changed")[-1][3]["reason"] == "no more"
    assert log(store, "setting.changed")[-1][3]["new"] is None


def test_configure_is_an_administrators_for_a_deployment_that_exists(room, tmp_path):
    store, dep, admin = room
    for who in (actor_for(store, "op"), Actor(999, "ghost", "administrator")):
        with pytest.raises(PermissionDenied):
            outbound.configure(store, who, dep, webhook_url="https://x.example/")
    assert refused(outbound.configure, store, admin, 999, webhook_url="https://x.example/") == \
        "deployment 999 does not exist"
    assert refused(outbound.configure, store, admin, dep, jsonl_path="x", secret="new", secrets_dir=tmp_path) == \
        "a signing secret needs a webhook and a place to keep it"
    assert refused(outbound.configure, store, admin, dep, webhook_url="https://x.example/", secret="new") == \
        "a signing secret needs a webhook and a place to keep it"
    made = outbound.configure(store, admin, dep, webhook_url="https://x.example/", secret="new", secrets_dir=tmp_path)
    key = (tmp_path / f"outbound-{dep}.key").read_text()
    assert len(key) == 64 and int(key, 16) >= 0 and made["secret_file"] == str(tmp_path / f"outbound-{dep}.key")
    assert outbound.key_folder(store).is_absolute()


def test_the_body_is_compact_sorted_json_and_its_signature_an_hmac():
    body = outbound.body_of({"b": 1, "a": [1, 2]})
    assert body == b'{"a":[1,2],"b":1}'
    assert outbound.sign(body, "k") == "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()


def test_the_file_line_and_its_failure_are_logged(room, tmp_path):
    store, dep, admin = room
    path = tmp_path / "deep" / "dispatch.jsonl"
    outbound._append_line(store, path, EVENT)
    outbound._append_line(store, path, EVENT)
    assert path.read_bytes() == (outbound.body_of(EVENT) + b"\n") * 2
    blocked = tmp_path / "afile"
    blocked.write_text("")
    outbound._append_line(store, blocked / "x.jsonl", EVENT)
    assert log(store, "outbound.file") == [
        ("outbound", "alert", "5", {"event_id": "1-7", "file": str(path), "outcome": "written"}),
        ("outbound", "alert", "5", {"event_id": "1-7", "file": str(path), "outcome": "written"}),
        ("outbound", "alert", "5", {"event_id": "1-7", "file": str(blocked / "x.jsonl"), "outcome": "failed",
                                    "error": "FileExistsError"})]  # mkdir finds a file


def test_a_payload_of_a_decision_that_does_not_exist_is_refused(room):
    store, dep, admin = room
    assert refused(outbound.payload, store, 5, 7) == "decision 7 of alert 5 does not exist"


def _job(url, secret_file=None):
    return outbound._Job(0.0, 1, dict(EVENT), url, secret_file)


def test_an_attempt_is_signed_logged_and_retried_with_backoff_then_given_up(room, tmp_path):
    store, dep, admin = room
    sender = outbound.Dispatcher(store, base_s=100.0, max_delay_s=250.0, max_attempts=3)
    plain = outbound.Dispatcher(store)
    plain.close()
    assert (plain.base_s, plain.max_delay_s, plain.max_attempts, plain.timeout_s, plain.max_queued) == (
        2.0, 300.0, 8, 10.0, 10_000)
    ok, failing = Receiver(), Receiver(fail_first=99)
    try:
        key = tmp_path / "k"
        key.write_text(" s3 \n")
        sender._attempt(store, _job(ok.url, str(key)))
        body = outbound.body_of(EVENT)
        assert ok.bodies == [body]
        assert ok.headers[0]["x-orc-signature"] == outbound.sign(body, "s3")
        assert ok.headers[0]["content-type"] == "application/json"
        assert ok.headers[0]["user-agent"] == "operator-review-console"
        job = _job(failing.url)
        for _ in range(3):
            sender._attempt(store, job)
        with sender._cv:
            sender._heap.clear()
        before = time.monotonic()
        sender._attempt(store, _job("http://127.0.0.1:9/closed"))
        assert sender._heap and sender._heap[0].attempt == 1
        assert sender._heap[0].due >= before + 100.0  # due after its backoff, not at once
        with sender._cv:
            sender._heap.clear()
        sender._attempt(store, _job(ok.url, str(tmp_path / "missing")))
    finally:
        ok.close()
        failing.close()
        sender.close()
    sent = [d for *_, d in log(store, "outbound.webhook")]
    assert sent[0] == {"event_id": "1-7", "url": ok.url, "attempt": 1, "status": 200, "outcome": "delivered"}
    assert sent[1:4] == [
        {"event_id": "1-7", "url": failing.url, "attempt": 1, "status": 500, "outcome": "retry", "error": "HTTP 500",
         "retry_in_s": 100.0},
        {"event_id": "1-7", "url": failing.url, "attempt": 2, "status": 500, "outcome": "retry", "error": "HTTP 500",
         "retry_in_s": 200.0},
        {"event_id": "1-7", "url": failing.url, "attempt": 3, "status": 500, "outcome": "gave_up", "error": "HTTP 500"}]
    assert sent[4] == {"event_id": "1-7", "url": "http://127.0.0.1:9/closed", "attempt": 1, "status": None,
                       "outcome": "retry", "error": "URLError", "retry_in_s": 100.0}
    assert sent[5]["error"] == "FileNotFoundError" and sent[5]["status"] is None  # an unreadable secret file
    assert {s[:3] for s in log(store, "outbound.webhook")} == {("outbound", "alert", "5")}


def test_the_backoff_stops_growing_at_its_cap(room):
    store, dep, admin = room
    sender = outbound.Dispatcher(store, base_s=100.0, max_delay_s=250.0, max_attempts=9)
    failing = Receiver(fail_first=99)
    try:
        job = _job(failing.url)
        for _ in range(3):
            sender._attempt(store, job)
    finally:
        failing.close()
        sender.close()
    assert [d["retry_in_s"] for *_, d in log(store, "outbound.webhook")] == [100.0, 200.0, 250.0]


def test_a_full_queue_drops_and_logs_and_the_sender_is_kept_per_store(room):
    store, dep, admin = room
    sender = outbound.Dispatcher(store, max_queued=1, base_s=100.0)
    try:
        with sender._cv:
            sender._closed = True  # hold the thread: nothing is sent
        sender.submit(EVENT, "https://x.example/")
        sender.submit(EVENT, "https://x.example/")
        assert len(sender._heap) == 1
    finally:
        sender.close()
    assert log(store, "outbound.webhook") == [("outbound", "alert", "5", {"event_id": "1-7", "outcome": "dropped",
                                                                       "error": "queue full"})]
    first = outbound.dispatcher_for(store)
    assert outbound.dispatcher_for(store) is first and store.outbound is first
    outbound.close(store)
    assert store.outbound is None and not first._thread.is_alive()


def test_files_and_key_folders_are_made_however_deep_and_the_key_never_readable_by_others(room, tmp_path,
                                                                                          monkeypatch):
    store, dep, admin = room
    path = tmp_path / "a" / "b" / "dispatch.jsonl"
    outbound._append_line(store, path, EVENT)
    assert path.read_bytes() == outbound.body_of(EVENT) + b"\n"
    modes = []
    real_fdopen = outbound.os.fdopen

    def fdopen(fd, *args, **kw):  # the file's mode as it is created, before any chmod
        import os
        import stat
        modes.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return real_fdopen(fd, *args, **kw)

    monkeypatch.setattr(outbound.os, "fdopen", fdopen)
    made = outbound.configure(store, admin, dep, webhook_url="https://x.example/", secret="k",
                              secrets_dir=tmp_path / "k1" / "k2")
    assert modes == [0o600] and (tmp_path / "k1" / "k2" / f"outbound-{dep}.key").read_text() == "k"
    assert made["secret_file"] == str(tmp_path / "k1" / "k2" / f"outbound-{dep}.key")
    row = store.one("SELECT * FROM settings WHERE key = ?", (outbound.KEY,))
    assert row["updated_by"] == admin.user_id


def test_describe_flattens_every_broker_field_and_joins_only_lists():
    config = {"mqtt": {"url": "mqtts://m:pw@broker/", "topic_prefix": "orc/x", "events": ["confirmed", "outcome"],
                       "username": "u", "password_file": "/k/p"}}
    assert outbound.describe(config) == {"mqtt_url": "mqtts://***@broker/", "mqtt_topic_prefix": "orc/x",
                                         "mqtt_events": "confirmed,outcome", "mqtt_username": "u",
                                         "mqtt_password_file": "/k/p"}


def _confirmed_payload(store, alert_id: int) -> dict:
    from tests.unit.test_outbound_webhook import confirm

    confirm(store, actor_for(store, "op"), alert_id)
    decided = store.one("SELECT id, alert_id FROM decisions ORDER BY id DESC LIMIT 1")
    event = outbound.payload(store, decided["alert_id"], decided["id"])
    assert event.pop("confirmed_at")
    return event


def test_the_payload_names_the_place_and_the_incident_a_sighting_joined(store):
    d = small_deployment(store, operators=("op",), incident_window_s=600)
    first, second = d.alert(track=1), d.alert(track=1)
    assert store.one("SELECT incident_id FROM alerts WHERE id = ?", (second,))["incident_id"] == first
    decision = store.one("SELECT COALESCE(MAX(id), 0) + 1 AS n FROM decisions")["n"]
    assert _confirmed_payload(store, second) == {
        "schema": outbound.SCHEMA, "event_id": f"{d.deployment_id}-{decision}",
        "deployment": {"id": d.deployment_id, "name": "D", "location": "P"}, "alert_id": second,
        "incident_id": first, "camera": "Cam", "seen_at": "2026-01-01T09:00:00Z", "confirmations": 1,
        "watchlist": {"record_number": "R-1", "category": "missing_person"}}


def _alert(store, dep: int, track: int = 1) -> int:
    """An alert on the room's camera and entry, as tests.factories' SmallDeployment.alert makes one."""
    return repo.insert_alert(store, repo.AlertRecord(
        dep, store.one("SELECT id FROM cameras")["id"], track,
        [(store.one("SELECT id FROM watchlist_entries")["id"], store.one("SELECT id FROM entry_images")["id"], 0.7)],
        0.4, "m", [0, 0, 1, 1], {}, b"p", b"c", "2026-01-01T09:00:00Z"))


def test_an_alert_of_no_other_incident_is_its_own(room):
    store, dep, admin = room
    alert_id = _alert(store, dep)
    assert _confirmed_payload(store, alert_id)["incident_id"] == alert_id


def test_sends_queued_in_one_transaction_each_go_and_an_alert_gone_sends_nothing(room, tmp_path):
    store, dep, admin = room
    path = tmp_path / "dispatch.jsonl"
    outbound.configure(store, admin, dep, jsonl_path=str(path))
    d_alerts = [_alert(store, dep, track) for track in (1, 2)]
    from tests.unit.test_outbound_webhook import confirm

    for alert_id in d_alerts:
        with store.transaction():
            confirm(store, actor_for(store, "op"), alert_id)
    path.unlink()
    decisions = [(r["alert_id"], r["id"]) for r in store.query("SELECT id, alert_id FROM decisions ORDER BY id")]
    with store.transaction():  # two confirmations' sends queued by one transaction: both go once it commits
        for alert_id, decision_id in decisions:
            outbound.alert_confirmed(store, alert_id, decision_id)
        assert not path.exists()
    assert [json.loads(x)["alert_id"] for x in path.read_text().splitlines()] == d_alerts
    outbound._send(store, 999_999, 1)  # an alert that is not (or no longer) there: nothing, and no error
    assert len(path.read_text().splitlines()) == 2


def test_the_store_senders_are_its_own_and_both_are_closed(room):
    store, dep, admin = room

    class Sender:
        closed = False

        def close(self):
            self.closed = True

    mqtt = store.outbound_mqtt = Sender()
    sender = outbound.dispatcher_for(store)
    assert sender.store is store
    assert sender._thread.name == "outbound-webhook" and sender._thread.daemon is True
    outbound.close(store)
    assert mqtt.closed and store.outbound_mqtt is None and store.outbound is None
