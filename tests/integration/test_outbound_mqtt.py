"""MQTT out against a real broker (Debian's mosquitto, started here on 127.0.0.1): exactly the final
confirmations are published, once, with the webhook's payload, QoS 1 and never retained; a wrong
password, a broker that is down, and an untrusted certificate are audited and retried; TLS with the
right CA works; the handheld's delivery and the outcome follow when asked; the password shows nowhere."""

from __future__ import annotations

import json
import random

import pytest

from console.errors import ConsoleError
from console.services.accounts.auth import actor_for
from console.services.accuracy import known_answer
from console.services.decisions import adjudication, mqtt_out, outbound
from console.services.engage import dispatch, pairing
from console.services.setup import deployments
from console.store import audit, repo
from tests.factories import small_deployment, wait_for
from tests.integration.mqtt_broker import PUBLISHER, PUBLISHER_PASSWORD, Broker, Subscriber, make_ca
from tests.unit.test_known_answer import load_items


@pytest.fixture
def broker(tmp_path):
    b = Broker(tmp_path / "broker").start()
    yield b
    b.stop()


@pytest.fixture
def world(store, tmp_path):
    small = small_deployment(store, operators=("op", "op2"))
    repo.create_user(store, "admin", "Admin", "administrator")
    yield store, small
    outbound.close(store)


def password_file(tmp_path, password=PUBLISHER_PASSWORD):
    path = tmp_path / "mqtt.password"
    path.write_text(password + "\n")
    path.chmod(0o600)
    return str(path)


def configure(store, small, tmp_path, url, password=PUBLISHER_PASSWORD, ca="", events="confirmed", **sender):
    mqtt = {"url": url, "topic": "lfr", "user": PUBLISHER, "password_file": password_file(tmp_path, password),
            "ca_file": ca, "events": events}
    mqtt_out.configure(store, actor_for(store, "admin"), small.deployment_id, mqtt=mqtt, reason="to the bridge")
    mqtt_out.close(store)  # a publisher of an earlier configuration of this test
    store.outbound_mqtt = mqtt_out.Publisher(store, **({"base_s": 0.05, "timeout_s": 3.0} | sender))
    return store.outbound_mqtt


def confirm(store, actor, alert_id, note=""):
    adjudication.open_alert(store, actor, alert_id)
    return adjudication.confirm(store, actor, alert_id, note)


def logged(store, action="outbound.mqtt"):
    return [json.loads(r["details_json"]) for r in
            store.query("SELECT details_json FROM audit_log WHERE action = ? ORDER BY seq", (action,))]


def test_a_missing_broker_fails_the_tests_with_the_install_line(tmp_path, monkeypatch):
    from tests.integration import mqtt_broker

    monkeypatch.setattr(mqtt_broker, "MOSQUITTO", str(tmp_path / "no-mosquitto"))
    with pytest.raises(pytest.fail.Exception, match="apt-get install mosquitto"):
        Broker(tmp_path / "broker")


def test_mqtt_publishes_exactly_the_final_confirmations_with_the_webhooks_payload(world, broker, tmp_path):
    store, small = world
    watcher = Subscriber(broker)
    try:
        sender = configure(store, small, tmp_path, broker.url)
        load_items(store, small.supervisor_id)
        known_answer.configure(store, actor_for(store, "sup"), small.deployment_id, True, every=2, hourly=True,
                               reason="measure")
        op, op2 = actor_for(store, "op"), actor_for(store, "op2")
        confirmed, rejected = small.alert(track=1), small.alert(track=2)
        confirm(store, op, confirmed)
        adjudication.open_alert(store, op, rejected)
        adjudication.reject(store, op, rejected, "different_person")
        test = known_answer.inject(store, small.deployment_id, random.Random(1))
        confirm(store, op, test)  # a known-answer test, confirmed: never published
        deployments.set_two_person_rule(store, actor_for(store, "sup"), small.deployment_id, True, "policy")
        twice = small.alert(track=3)
        assert confirm(store, op, twice) is None  # the first of two: not final, nothing published
        assert sender.wait_idle(10)
        assert wait_for(lambda: len(watcher.messages) == 1, 5)
        confirm(store, op2, twice)
        assert sender.wait_idle(10) and wait_for(lambda: len(watcher.messages) == 2, 5)
        decisions = {r["alert_id"]: r["id"] for r in store.query("SELECT id, alert_id FROM decisions ORDER BY id")}
        got = [json.loads(m.payload) for m in watcher.messages]
        assert [e["alert_id"] for e in got] == [confirmed, twice]
        assert got[0] == outbound.payload(store, confirmed, decisions[confirmed])  # the webhook's schema, as is
        assert got[0]["schema"] == outbound.SCHEMA and [e["confirmations"] for e in got] == [1, 2]
        topic = f"lfr/deployment/{small.deployment_id}/confirmed"
        assert [(m.topic, m.qos, m.retain) for m in watcher.messages] == [(topic, 1, False), (topic, 1, False)]
        for m in watcher.messages:  # no image: no JPEG, no PNG, no image field
            assert b"\xff\xd8" not in m.payload and b"\x89PNG" not in m.payload and b"jpeg" not in m.payload.lower()
            assert m.payload == outbound.body_of(json.loads(m.payload))
        sends = logged(store)
        assert [(s["outcome"], s["attempt"], s["qos"], s["retain"], s["topic"]) for s in sends] == [
            ("delivered", 1, 1, False, topic)] * 2
        assert audit.verify_chain(store).ok and audit.verify_records(store) == []
    finally:
        watcher.close()


def test_a_wrong_password_is_a_clear_audited_refusal_retried_then_given_up(world, broker, tmp_path):
    store, small = world
    sender = configure(store, small, tmp_path, broker.url, password="not the password", max_attempts=3)
    confirm(store, actor_for(store, "op"), small.alert())
    assert sender.wait_idle(15)
    sends = logged(store)
    assert [(s["outcome"], s["attempt"]) for s in sends] == [("retry", 1), ("retry", 2), ("gave_up", 3)]
    assert all("refused by the broker: Not authorized" in s["error"] for s in sends)
    assert [s["retry_in_s"] for s in sends[:2]] == [0.05, 0.1]


def test_a_broker_that_is_down_gets_the_event_once_it_is_back(world, broker, tmp_path):
    store, small = world
    watcher = Subscriber(broker)  # a kept session: it hears what was published while it was away
    try:
        sender = configure(store, small, tmp_path, broker.url, base_s=0.2, max_delay_s=0.5, max_attempts=40)
        broker.stop()
        alert_id = small.alert()
        confirm(store, actor_for(store, "op"), alert_id)  # returns at once: the broker is down
        assert store.one("SELECT COUNT(*) AS n FROM decisions")["n"] == 1
        assert wait_for(lambda: sum(s["outcome"] == "retry" for s in logged(store)) >= 2, 10)
        broker.start()
        assert sender.wait_idle(20)
        assert wait_for(lambda: len(watcher.messages) == 1, 10)
        assert json.loads(watcher.messages[0].payload)["alert_id"] == alert_id
        outcomes = [s["outcome"] for s in logged(store)]
        assert outcomes[-1] == "delivered" and set(outcomes[:-1]) == {"retry"}
        assert logged(store)[0]["error"] == "ConnectionRefusedError"
    finally:
        watcher.close()


def test_tls_with_the_brokers_ca_works_and_an_untrusted_certificate_is_refused(world, broker, tmp_path):
    store, small = world
    watcher = Subscriber(broker)
    try:
        other_ca = make_ca(tmp_path, "stranger", server=False)
        sender = configure(store, small, tmp_path, broker.tls_url, ca=str(other_ca), max_attempts=2)
        confirm(store, actor_for(store, "op"), small.alert(track=1))
        assert sender.wait_idle(10)
        refused = logged(store)
        assert [s["outcome"] for s in refused] == ["retry", "gave_up"]
        assert all(s["error"].startswith("TLS: the broker's certificate is not trusted") for s in refused)
        sender = configure(store, small, tmp_path, broker.tls_url, ca=str(broker.ca))
        confirm(store, actor_for(store, "op"), small.alert(track=2))
        assert sender.wait_idle(10)
        assert logged(store)[-1]["outcome"] == "delivered" and logged(store)[-1]["broker"] == broker.tls_url
        assert wait_for(lambda: len(watcher.messages) == 1, 5)  # only the one sent over trusted TLS
        assert not watcher.messages[0].retain
    finally:
        watcher.close()


def test_delivery_and_outcome_events_follow_when_asked(world, broker, tmp_path):
    store, small = world
    repo.create_user(store, "pc1", "PC One", "engagement_officer")
    watcher = Subscriber(broker)
    try:
        sender = configure(store, small, tmp_path, broker.url, events="confirmed,delivery,outcome")
        code = pairing.start_pairing(store, actor_for(store, "sup"), "pc1", small.deployment_id)
        _token, device = pairing.pair(store, code.code, "phone", "127.0.0.1")
        op = actor_for(store, "op")
        alert_id = small.alert()
        confirm(store, op, alert_id, "the scar")
        sent = dispatch.send(store, op, alert_id)
        dispatch.inbox(store, device)
        dispatch.card(store, device, sent.dispatch_id)
        dispatch.record_outcome(store, device, sent.dispatch_id, True, True, "arrest", "PC One arrested him")
        assert sender.wait_idle(10) and wait_for(lambda: len(watcher.messages) == 4, 5)
        kinds = [m.topic.rsplit("/", 1)[1] for m in watcher.messages]
        assert kinds == ["confirmed", "delivered", "seen", "outcome"]
        events = [json.loads(m.payload) for m in watcher.messages]
        base = {k: v for k, v in events[0].items() if k not in ("schema", "event_id")}
        for e in events[1:]:  # the webhook's event, plus what happened
            assert {k: v for k, v in e.items() if k in base} == base
        assert events[1]["dispatch"]["stage"] == "delivered" and events[1]["schema"] == mqtt_out.DISPATCH_SCHEMA
        assert events[3]["outcome"] | {"recorded_at": ""} == {"result": "confirmed_true", "action": "arrest",
                                                              "via": "handheld", "recorded_at": "",
                                                              "dispatch_id": sent.dispatch_id}
        text = b"".join(m.payload for m in watcher.messages).decode()
        for absent in ("PC One", "pc1", "scar", "arrested him", "subject"):  # no names, no notes
            assert absent not in text
        assert len({e["event_id"] for e in events}) == 4
    finally:
        watcher.close()


def test_only_confirmations_by_default_and_the_password_never_shows(world, broker, tmp_path, capsys):
    store, small = world
    sender = configure(store, small, tmp_path, broker.url)
    repo.create_user(store, "pc1", "PC One", "engagement_officer")
    op = actor_for(store, "op")
    alert_id = small.alert()
    confirm(store, op, alert_id)
    adjudication.record_outcome(store, op, alert_id, "confirmed_true", "arrest")  # relayed: not asked for
    assert sender.wait_idle(10)
    assert [s["topic"].rsplit("/", 1)[1] for s in logged(store)] == ["confirmed"]
    shown = outbound.describe(outbound.config_of(store, small.deployment_id))
    assert shown["mqtt_password_file"].endswith("mqtt.password") and shown["mqtt_username"] == PUBLISHER
    everything = json.dumps([dict(r) for r in store.query("SELECT * FROM audit_log")]) + json.dumps(shown)
    everything += json.dumps([dict(r) for r in store.query("SELECT * FROM settings")])
    assert PUBLISHER_PASSWORD not in everything
    admin = actor_for(store, "admin")
    loose = tmp_path / "loose.password"
    loose.write_text(PUBLISHER_PASSWORD)
    loose.chmod(0o644)
    for bad, match in (({"url": broker.url, "user": "u", "password_file": str(loose)}, "chmod 600"),
                       ({"url": "mqtt://broker.example:1883"}, "mqtts://"),
                       ({"url": f"mqtt://u:{PUBLISHER_PASSWORD}@127.0.0.1:1883"}, "not in the URL"),
                       ({"url": broker.url, "events": "confirmed,images"}, "unknown MQTT events"),
                       ({"url": broker.url, "topic": "lfr/#"}, "wildcards")):
        with pytest.raises(ConsoleError, match=match):
            mqtt_out.configure(store, admin, small.deployment_id, mqtt=bad)
    with pytest.raises(ConsoleError):  # a supervisor may not send alerts anywhere
        mqtt_out.configure(store, actor_for(store, "sup"), small.deployment_id, mqtt={"url": broker.url})
    assert PUBLISHER_PASSWORD not in capsys.readouterr().out


def test_deploy_outbound_sets_a_broker_from_the_cli_without_ever_printing_its_password(tmp_path, monkeypatch, capsys):
    import io
    import sys

    from console.cli import commands as cli
    from console.services.accounts import auth
    from console.store import open_store

    data, admin_password = tmp_path / "data", "amber lantern over the quay"
    monkeypatch.setattr(auth, "SCRYPT_N", 2**11)
    store = open_store(data)
    auth.bootstrap_administrator(store, "chief", "Chief", admin_password)
    dep = small_deployment(store).deployment_id
    store.close()
    secret = password_file(tmp_path)

    def deploy(*args):
        monkeypatch.setattr(sys, "stdin", io.StringIO(admin_password + "\n"))
        code = cli.main(["deploy", "outbound", str(dep), *args, "--data-dir", str(data), "--user", "chief",
                         "--password-stdin", "--note", "to the VMS bridge"])
        out = capsys.readouterr()
        return code, out.out + out.err

    code, out = deploy("--mqtt", "mqtts://broker.example:8883", "--mqtt-topic", "lfr", "--mqtt-user", PUBLISHER,
                       "--mqtt-password-file", secret, "--mqtt-events", "confirmed,delivery,outcome")
    assert code == 0, out
    assert "mqtt_url=mqtts://broker.example:8883" in out and "mqtt_events=confirmed,delivery,outcome" in out
    assert f"mqtt_password_file={secret}" in out and PUBLISHER_PASSWORD not in out
    code, out = deploy()  # shown again
    assert code == 0 and "mqtt_topic_prefix=lfr" in out and PUBLISHER_PASSWORD not in out
    code, out = deploy("--mqtt", "mqtt://broker.example:1883")
    assert code != 0 and "mqtts://" in out
    store = open_store(data)
    try:
        changes = logged(store, "setting.changed")
        assert changes[-1]["new"]["mqtt"]["username"] == PUBLISHER
        assert PUBLISHER_PASSWORD not in json.dumps([dict(r) for r in store.query("SELECT * FROM audit_log")])
    finally:
        store.close()
