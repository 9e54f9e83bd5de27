"""The engagement officer's handheld, below the web service: pairing, dispatch, delivery, outcome -
on SQLite and PostgreSQL (the same services the web service calls)."""

from __future__ import annotations

import pytest

from console import clock
from console.errors import ConsoleError, PermissionDenied
from console.services.accounts import auth
from console.services.accounts.auth import actor_for
from console.services.decisions import adjudication
from console.services.engage import dispatch, instructions, pairing
from console.store import audit, ledger, repo
from tests.factories import small_deployment


@pytest.fixture
def room(db):
    d = small_deployment(db, operators=("op",))
    repo.create_user(db, "pc1", "PC One", "engagement_officer")
    repo.create_user(db, "pc2", "PC Two", "engagement_officer")
    return {"store": db, "d": d, "sup": actor_for(db, "sup"), "op": actor_for(db, "op")}


def paired(room, officer="pc1", deployment_id=None):
    code = pairing.start_pairing(room["store"], room["sup"], officer, deployment_id or room["d"].deployment_id)
    return pairing.pair(room["store"], code.code, "phone", "127.0.0.1")


def confirmed(room, note="matches the scar"):
    store, op = room["store"], room["op"]
    alert_id = room["d"].alert()
    adjudication.open_alert(store, op, alert_id)
    adjudication.confirm(store, op, alert_id, note)
    return alert_id


def test_a_paired_officer_receives_sees_and_closes_a_confirmed_alert(room):
    store = room["store"]
    token, device = paired(room)
    assert pairing.device_for(store, token).officer == "pc1"
    alert_id = confirmed(room)
    sent = dispatch.send(store, room["op"], alert_id)
    assert sent.new and sent.to == "team" and sent.reach == 1
    assert dispatch.delivery(store, room["op"], alert_id).state == "sent"
    [item] = dispatch.inbox(store, device)
    assert item["state"] == "open"
    assert dispatch.delivery(store, room["op"], alert_id).state == "delivered"
    card = dispatch.card(store, device, sent.dispatch_id)
    assert card["operator_note"] == "matches the scar" and card["category"] == "Missing person"
    assert card["record_number"] == "R-1" and card["instructions"] == instructions.DEFAULTS["missing_person"]
    assert dispatch.image(store, device, sent.dispatch_id, "photo") == b"j"
    assert dispatch.delivery(store, room["op"], alert_id).state == "seen"
    eid = dispatch.record_outcome(store, device, sent.dispatch_id, True, False, "no_further_action", "not him")
    d = dispatch.delivery(store, room["op"], alert_id)
    assert d.state == "outcome" and d.outcome["via"] == "handheld" and d.outcome["result"] == "confirmed_false"
    assert d.outcome["by"] == "pc1" and eid
    with pytest.raises(ConsoleError, match="already recorded"):
        dispatch.record_outcome(store, device, sent.dispatch_id, True, True, "arrest")
    with pytest.raises(PermissionDenied):  # closed: no more images
        dispatch.image(store, device, sent.dispatch_id, "photo")
    assert audit.verify_records(store) == [] and ledger.verify(store) == []
    assert audit.verify_chain(store).ok


def test_only_a_confirmed_alert_goes_and_a_retry_makes_nothing_new(room):
    store, op = room["store"], room["op"]
    paired(room)
    pending = room["d"].alert(track=2)
    with pytest.raises(ConsoleError, match="not confirmed"):
        dispatch.send(store, op, pending)
    adjudication.open_alert(store, op, pending)
    adjudication.reject(store, op, pending, "different_person")
    with pytest.raises(ConsoleError, match="not confirmed"):
        dispatch.send(store, op, pending)
    alert_id = confirmed(room)
    first = dispatch.send(store, op, alert_id)
    again = dispatch.send(store, op, alert_id)
    assert not again.new and again.dispatch_id == first.dispatch_id
    assert store.one("SELECT COUNT(*) AS n FROM dispatches")["n"] == 1


def test_a_pairing_code_works_once_and_wrong_codes_void_the_open_ones(room):
    store = room["store"]
    code = pairing.start_pairing(store, room["sup"], "pc1", room["d"].deployment_id)
    pairing.pair(store, code.code)
    with pytest.raises(pairing.PairingError):
        pairing.pair(store, code.code)
    code = pairing.start_pairing(store, room["sup"], "pc2", room["d"].deployment_id)
    for n in range(pairing.MAX_FAILURES):
        with pytest.raises(pairing.PairingError):
            pairing.pair(store, f"ZZZZZ{n:05d}")
    with pytest.raises(pairing.PairingError):  # the right code, but too many guesses were made while it was open
        pairing.pair(store, code.code.lower())
    assert ledger.verify(store) == []


def test_a_revoked_device_or_disabled_officer_is_refused_and_the_team_shrinks(room):
    store = room["store"]
    token, device = paired(room)
    token2, device2 = paired(room, "pc2")
    assert {o["officer"] for o in pairing.officers(store, room["d"].deployment_id)} == {"pc1", "pc2"}
    pairing.revoke(store, room["sup"], device.device_id, "phone lost")
    with pytest.raises(PermissionDenied):
        pairing.device_for(store, token)
    assert [o["officer"] for o in pairing.officers(store, room["d"].deployment_id)] == ["pc2"]
    repo.create_user(store, "adm", "Admin", "administrator")
    auth.set_active(store, actor_for(store, "adm"), "pc2", False)
    with pytest.raises(PermissionDenied):
        pairing.device_for(store, token2)
    assert pairing.officers(store, room["d"].deployment_id) == []
    assert device2.officer == "pc2"


def test_an_officer_sees_nothing_addressed_to_another_officer_or_deployment(room):
    store, op = room["store"], room["op"]
    _, mine = paired(room, "pc1")
    _, other = paired(room, "pc2")
    alert_id = confirmed(room)
    sent = dispatch.send(store, op, alert_id, officer="pc1")
    assert dispatch.inbox(store, other) == []
    with pytest.raises(PermissionDenied):
        dispatch.card(store, other, sent.dispatch_id)
    with pytest.raises(PermissionDenied):
        dispatch.record_outcome(store, other, sent.dispatch_id, True, True, "arrest")
    assert [i["dispatch_id"] for i in dispatch.inbox(store, mine)] == [sent.dispatch_id]


def test_a_dispatch_is_shown_for_thirty_minutes_at_most(room, monkeypatch):
    store = room["store"]
    _, device = paired(room)
    sent = dispatch.send(store, room["op"], confirmed(room))
    dispatch.card(store, device, sent.dispatch_id)
    later = clock.wall() + dispatch.OPEN_FOR.total_seconds() + 1
    monkeypatch.setattr(clock, "_wall", lambda: later)
    assert dispatch.card(store, device, sent.dispatch_id)["state"] == "expired"
    with pytest.raises(PermissionDenied):
        dispatch.image(store, device, sent.dispatch_id, "capture")


def test_the_record_counts_engagements_by_who_recorded_them(room):
    from console.store import handheld

    store, op = room["store"], room["op"]
    _, device = paired(room)
    sent = dispatch.send(store, op, confirmed(room))
    dispatch.card(store, device, sent.dispatch_id)
    dispatch.record_outcome(store, device, sent.dispatch_id, False, None, "")
    relayed = confirmed(room)
    adjudication.record_outcome(store, op, relayed, "confirmed_true", "words_of_advice")
    assert handheld.engagement_sources(store, room["d"].deployment_id) == {"handheld": 1, "relayed": 1}


def test_the_deployment_record_says_who_recorded_each_outcome(room, tmp_path):
    from console.services.record import reports
    from tests.pdf_text import pdf_text
    from ui.record_pdf import render_record_pdf

    store, op, sup = room["store"], room["op"], room["sup"]
    _, device = paired(room)
    for _ in range(2):
        sent = dispatch.send(store, op, confirmed(room))
        dispatch.card(store, device, sent.dispatch_id)
        dispatch.record_outcome(store, device, sent.dispatch_id, True, True, "arrest")
    adjudication.record_outcome(store, op, confirmed(room), "not_located", "no_further_action")
    record = reports.deployment_record(store, sup, room["d"].deployment_id)
    assert record["engagements_recorded_by"] == {"officer_on_handheld": 2, "relayed_by_operator": 1}
    pdf = reports.export_record(store, sup, room["d"].deployment_id, tmp_path / "r.pdf", render_record_pdf).read_bytes()
    assert "recorded by the officer on a handheld: 2; relayed by an operator: 1" in pdf_text(pdf).replace("\n", " ")
