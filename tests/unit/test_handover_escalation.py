"""Shift handover and escalation as a workflow, in the services: claims released and logged with
counts; an escalation needs a note, leaves the operators' queue and is decided by a supervisor with a
note; the decision log filters escalated alerts."""

import json

import pytest

from console.errors import PermissionDenied
from console.services.accounts.auth import actor_for
from console.services.decisions import adjudication, handover
from console.services.record import stats
from console.store import audit, repo
from tests.factories import small_deployment


@pytest.fixture
def seat(store):
    d = small_deployment(store, operators=("ann", "bob"))
    repo.create_user(store, "adm", "Admin", "administrator")
    return d, {n: actor_for(store, n) for n in ("ann", "bob", "sup", "adm")}


def test_handover_releases_the_claims_and_logs_the_counts(seat):
    d, who = seat
    held, other, waiting = d.alert(track=1), d.alert(track=2), d.alert(track=3)
    adjudication.open_alert(d.store, who["ann"], held)
    adjudication.open_alert(d.store, who["bob"], other)
    result = handover.hand_over(d.store, who["ann"], d.deployment_id)
    assert result.released == [held]
    assert [p["id"] for p in result.pending] == [held, other, waiting]
    assert "3 incident(s) waiting" in result.summary() and "1 you had open released" in result.summary()
    claims = {r["id"]: r["claimed_by"] for r in d.store.query("SELECT id, claimed_by FROM alerts")}
    assert claims[held] is None and claims[other] == who["bob"].user_id  # only ann's own claims go
    entry = d.store.one("SELECT actor, details_json FROM audit_log WHERE action = ?", (handover.HANDOVER,))
    details = json.loads(entry["details_json"])
    assert entry["actor"] == "ann" and details["pending"] == 3 and details["claims_released"] == 1
    adjudication.open_alert(d.store, who["bob"], held)  # the next user takes it at once, no lease to wait out
    assert audit.verify_chain(d.store).ok


def test_handover_is_open_to_every_role_but_not_to_a_disabled_account(seat):
    d, who = seat
    d.alert()
    assert handover.hand_over(d.store, who["adm"], d.deployment_id).released == []
    with d.store.transaction() as conn:
        conn.execute("UPDATE users SET active = 0 WHERE username = 'bob'")
    with pytest.raises(PermissionDenied):
        handover.hand_over(d.store, who["bob"], d.deployment_id)


def test_escalation_needs_a_note_and_leaves_the_operators_queue(seat):
    d, who = seat
    a = d.alert()
    adjudication.open_alert(d.store, who["ann"], a)
    for empty in ("", "   "):
        with pytest.raises(adjudication.DecisionError, match="needs a note"):
            adjudication.escalate(d.store, who["ann"], a, empty)
    assert d.store.one("SELECT escalated_at FROM alerts WHERE id = ?", (a,))["escalated_at"] is None
    adjudication.escalate(d.store, who["ann"], a, "the photo is ten years old")
    for op in ("ann", "bob"):
        assert adjudication.queue_rows(d.store, who[op], d.deployment_id) == []
        assert adjudication.queue_row(d.store, who[op], a) == {}
    rows = adjudication.queue_rows(d.store, who["sup"], d.deployment_id)
    assert [r["id"] for r in rows] == [a] and rows[0]["escalated_at"]


def test_a_supervisor_decides_an_escalated_alert_only_with_a_note(seat):
    d, who = seat
    a, plain = d.alert(track=1), d.alert(track=2)
    adjudication.open_alert(d.store, who["ann"], a)
    adjudication.escalate(d.store, who["ann"], a, "unsure")
    adjudication.open_alert(d.store, who["sup"], a)
    with pytest.raises(adjudication.DecisionError, match="needs a note"):
        adjudication.confirm(d.store, who["sup"], a, "")
    with pytest.raises(adjudication.DecisionError, match="needs a note"):
        adjudication.reject(d.store, who["sup"], a, "different_person", " ")
    decision = adjudication.reject(d.store, who["sup"], a, "different_person", "not the same ears")
    assert d.store.one("SELECT reason FROM decisions WHERE id = ?", (decision,))["reason"] == "not the same ears"
    adjudication.open_alert(d.store, who["sup"], plain)  # an alert nobody escalated needs no note
    assert adjudication.confirm(d.store, who["sup"], plain) is not None
    log = stats.LogFilter(deployment_id=d.deployment_id, escalated=True)
    assert [r["id"] for r in stats.log_page(d.store, who["sup"], log, 0)] == [a]
    assert stats.log_count(d.store, who["sup"], log) == 1
    assert stats.log_count(d.store, who["sup"], stats.LogFilter(deployment_id=d.deployment_id)) == 2
