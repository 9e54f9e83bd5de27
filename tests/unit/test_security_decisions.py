"""Attacks on the decision rules, tried through the services as a script at a seat would (Step 11).
Each rule holds on every path, on both databases."""

from __future__ import annotations

import json
import math

import pytest

from console.errors import PermissionDenied
from console.services.accounts.auth import actor_for
from console.services.accuracy import calibration
from console.services.decisions import adjudication, corrections
from console.services.setup import deployments
from console.store import repo
from tests.factories import small_deployment


@pytest.fixture
def seat(db):
    d = small_deployment(db, operators=("ann", "bob"))
    repo.create_user(db, "sup2", "Second supervisor", "supervisor")
    repo.create_user(db, "aud", "Auditor", "auditor")
    return d, {n: actor_for(db, n) for n in ("ann", "bob", "sup", "sup2", "aud")}


def test_security_a_decision_on_an_alert_nobody_opened_is_refused(seat):
    d, who = seat
    a = d.alert()
    for decide in (lambda: adjudication.confirm(d.store, who["ann"], a),
                   lambda: adjudication.reject(d.store, who["ann"], a, "test"),
                   lambda: adjudication.escalate(d.store, who["ann"], a)):
        with pytest.raises(adjudication.DecisionError, match="not open on your screen"):
            decide()
    adjudication.claim(d.store, who["ann"], a)  # a claim alone (no "opened" event) is not enough either
    with pytest.raises(adjudication.DecisionError, match="not open on your screen"):
        adjudication.confirm(d.store, who["ann"], a)
    assert d.store.query("SELECT id FROM decisions") == []


def test_security_a_decision_after_the_claim_lapsed_is_refused(seat, monkeypatch):
    from console import clock

    d, who = seat
    a = d.alert()
    adjudication.open_alert(d.store, who["ann"], a)
    t = clock.wall() + adjudication.CLAIM_LEASE_S + 1
    monkeypatch.setattr(clock, "_wall", lambda: t)
    with pytest.raises(adjudication.DecisionError, match="not open on your screen"):
        adjudication.reject(d.store, who["ann"], a, "look_alike")


def test_security_an_operator_correcting_a_decision_is_refused(seat):
    d, who = seat
    a = d.alert()
    adjudication.open_alert(d.store, who["ann"], a)
    adjudication.escalate(d.store, who["ann"], a, "unsure")
    adjudication.open_alert(d.store, who["sup"], a)
    decision = adjudication.reject(d.store, who["sup"], a, "look_alike", "a look-alike")
    # the operator overriding the supervisor's decision on an escalated alert
    with pytest.raises(PermissionDenied, match="may not correct decision"):
        corrections.correct_decision(d.store, who["ann"], decision, "true_alert", "", "it is him")
    assert len(d.store.query("SELECT id FROM decisions")) == 1


def test_security_a_correction_on_an_ended_deployment_is_refused(seat):
    d, who = seat
    a = d.alert()
    adjudication.open_alert(d.store, who["ann"], a)
    decision = adjudication.confirm(d.store, who["ann"], a)
    deployments.end(d.store, who["sup"], d.deployment_id, "operation over")
    with pytest.raises(deployments.DeploymentError, match="read-only"):
        corrections.correct_decision(d.store, who["sup"], decision, "false_alert", "look_alike", "second look")


def test_security_one_person_cannot_correct_to_a_confirm_under_the_two_person_rule_refused(seat):
    d, who = seat
    deployments.set_two_person_rule(d.store, who["sup"], d.deployment_id, True, "policy")
    a = d.alert()
    adjudication.open_alert(d.store, who["ann"], a)
    rejected = adjudication.reject(d.store, who["ann"], a, "look_alike")
    assert corrections.correct_decision(d.store, who["sup"], rejected, "true_alert", "", "it is him") is None
    assert corrections.correct_decision(d.store, who["sup"], rejected, "true_alert", "", "again, alone") is None
    assert len(d.store.query("SELECT id FROM decisions")) == 1  # still only the rejection
    proposed = d.store.query("SELECT actor FROM audit_log WHERE action = 'decision.correction_proposed'")
    assert [r["actor"] for r in proposed] == ["sup"]
    second = corrections.correct_decision(d.store, who["sup2"], rejected, "true_alert", "", "agreed")
    row = d.store.one("SELECT decision, supersedes, user_id, reason FROM decisions WHERE id = ?", (second,))
    assert (row["decision"], row["supersedes"], row["user_id"]) == ("true_alert", rejected, who["sup2"].user_id)
    assert "first: sup" in row["reason"]
    # a correction that is not the latest cannot fork the chain
    with pytest.raises(adjudication.DecisionError, match="corrected already"):
        corrections.correct_decision(d.store, who["sup"], rejected, "false_alert", "test", "fork")


def test_security_the_second_confirmation_is_blind(seat):
    d, who = seat
    deployments.set_two_person_rule(d.store, who["sup"], d.deployment_id, True, "policy")
    a = d.alert(score=0.8123)
    first_view = adjudication.open_alert(d.store, who["ann"], a)
    assert first_view.score == pytest.approx(0.8123) and not first_view.blind
    assert adjudication.confirm(d.store, who["ann"], a) is None
    # the second reviewer: no score and no first decision, in the queue or on screen
    card = adjudication.queue_rows(d.store, who["bob"], d.deployment_id)[0]
    assert card["score"] is None and card["first_confirmed_by"] is None and card["blind"]
    shown = adjudication.open_alert(d.store, who["bob"], a)
    assert shown.blind and shown.score is None and shown.decisions == []
    assert all(c.score is None for c in shown.candidates) and all(s["score"] is None for s in shown.sightings)
    adjudication.confirm(d.store, who["bob"], a)
    # the first reviewer's own card was never blind
    assert adjudication.queue_rows(d.store, who["ann"], d.deployment_id) == []


def test_security_an_auditor_starts_nothing_refused(seat):
    d, who = seat
    repo.set_deployment_state(d.store, d.deployment_id, "authorised", "sup", "deployment.test_reset", {}, ("active",))
    with pytest.raises(PermissionDenied, match="may not start recognition"):
        deployments.start(d.store, who["aud"], d.deployment_id)
    assert repo.get_deployment(d.store, d.deployment_id)["state"] == "authorised"


def test_security_joining_a_running_deployment_is_logged(seat):
    d, who = seat
    deployments.start(d.store, who["bob"], d.deployment_id)  # already active
    row = d.store.one("SELECT actor, details_json FROM audit_log WHERE action = 'deployment.joined'")
    assert row["actor"] == "bob" and json.loads(row["details_json"])["role"] == "operator"


@pytest.mark.parametrize("floor, threshold", [(0.0, 0.1), (0.0, 0.0), (0.363, 0.40), (0.0, math.nan), (0.0, 1.5)])
def test_security_a_floor_or_threshold_chosen_by_the_caller_is_refused(seat, floor, threshold):
    d, who = seat
    model = calibration.load().model_id
    spec = repo.DeploymentSpec("D", "P", "R", "2099-01-01T00:00:00Z", "2099-01-02T00:00:00Z", threshold, floor, model,
                               legal_basis="b")
    with pytest.raises(deployments.DeploymentError, match="outside the model's range"):
        deployments.create(d.store, who["sup"], spec)


def test_security_the_floor_comes_from_the_model_calibration(seat):
    d, who = seat
    model = calibration.load().model_id
    spec = repo.DeploymentSpec("D", "P", "R", "2099-01-01T00:00:00Z", "2099-01-02T00:00:00Z", 0.6, 0.0, model,
                               legal_basis="b")
    dep = deployments.create(d.store, who["sup"], spec)
    assert repo.get_deployment(d.store, dep)["threshold_floor"] == deployments.model_floor(model) > 0.363
    uncalibrated = repo.DeploymentSpec("D", "P", "R", "2099-01-01T00:00:00Z", "2099-01-02T00:00:00Z", 0.6, 0.9,
                                       "someone-elses-model", legal_basis="b")
    with pytest.raises(deployments.DeploymentError, match="no deployment of model"):
        deployments.create(d.store, who["sup"], uncalibrated)


@pytest.mark.parametrize("forged", ["made_up", "wrong_role", "disabled", "renamed"])
def test_security_an_actor_the_store_does_not_know_is_refused(seat, forged):
    """The services check the Actor they are handed against the store: an object made up in a script
    (or a session whose account was disabled or changed since sign-in) gets nothing."""
    from console.services.accounts.auth import Actor

    d, who = seat
    ann = who["ann"]
    actor = {"made_up": Actor(0, "cli-auditor", "auditor"),
             "wrong_role": Actor(ann.user_id, "ann", "supervisor"),
             "disabled": ann,
             "renamed": Actor(ann.user_id, "mallory", "operator")}[forged]
    if forged == "disabled":
        with d.store.transaction() as conn:
            conn.execute("UPDATE users SET active = 0 WHERE id = ?", (ann.user_id,))
    a = d.alert()
    with pytest.raises(PermissionDenied):
        if actor.role == "auditor":
            adjudication.alert_detail(d.store, actor, a, "decision log")
        else:
            adjudication.open_alert(d.store, actor, a)
    refused = d.store.one("SELECT details_json FROM audit_log WHERE action = 'access.refused' ORDER BY seq DESC")
    assert '"reason"' in refused["details_json"]
