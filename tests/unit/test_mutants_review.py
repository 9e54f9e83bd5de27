"""Tests that kill the mutants ``python main.py bench mutation --module review`` found alive:
every review step refuses (and logs) a role without the permission, what a reviewer is shown
(the queue row and the whole alert), the claim's lease, how long a decision took, the
two-person rule's records and refusals, escalation, corrections, and the exact refusals a
reviewer reads. The wall clock is set (console.clock._wall), so times are known answers."""

import json
from datetime import UTC, datetime

import numpy as np
import pytest

from console.errors import PermissionDenied, StoreError
from console.services.accounts.auth import actor_for
from console.services.decisions import adjudication, corrections
from console.services.setup import deployments
from console.store import repo
from tests.factories import SetClock

T = datetime(2026, 6, 1, 10, 0, tzinfo=UTC).timestamp()
T_TEXT = "2026-06-01T10:00:00.000000Z"


@pytest.fixture
def now(monkeypatch):
    """The wall clock, set to T; ``now.at(seconds)`` moves it to T + seconds."""
    return SetClock(monkeypatch, T)


@pytest.fixture
def w(store, now):
    sup = repo.create_user(store, "sup", "Supervisor", "supervisor")
    for name, role in (("op", "operator"), ("op2", "operator"), ("eo", "engagement_officer"), ("aud", "auditor")):
        repo.create_user(store, name, name.title(), role)
    dep = repo.create_deployment(store, repo.DeploymentSpec("Op", "Place", "why", "2026-01-01T08:00:00Z",
                                                            "2099-01-01T08:00:00Z", 0.4, 0.36, "m",
                                                            incident_window_s=0), sup, "sup")  # one alert, one incident
    repo.activate_deployment(store, dep, "sup")
    cam = repo.add_camera(store, dep, "Cam 1", "demo:0", "sup")
    wl = repo.create_watchlist(store, dep, "WL", "sup")
    entry = repo.add_entry(store, wl, repo.EntrySpec("R-1", "Person", "risk_to_others", "basis", "reason", "src",
                                                     "2024-01-01", "2027-01-01"), sup, "sup")
    image = repo.add_entry_image(store, entry, b"jpeg", np.ones(128, np.float32), "m", {"score": 0.9}, "sup")
    other = repo.add_entry(store, wl, repo.EntrySpec("R-2", "Other", "missing_person", "basis 2", "reason 2", "src 2",
                                                     "2023-05-05", "2028-01-01"), sup, "sup")
    other_image = repo.add_entry_image(store, other, b"jpeg 2", np.ones(128, np.float32), "m", {}, "sup")

    def make() -> int:
        record = repo.AlertRecord(dep, cam, 3, [(entry, image, 0.71234567), (other, other_image, 0.5)], 0.4, "m",
                                  [1, 2, 3, 4], {"score": 0.8}, b"probe", b"ctx", "2026-01-01T09:00:00Z")
        return repo.insert_alert(store, record)

    class World:
        pass

    x = World()
    x.store, x.dep, x.cam, x.entry, x.other, x.make = store, dep, cam, entry, other, make
    for name in ("sup", "op", "op2", "eo", "aud"):
        setattr(x, name, actor_for(store, name))
    return x


def _last_audit(store):
    return store.one("SELECT actor, action, subject_type, subject_id, details_json FROM audit_log ORDER BY seq DESC"
                     " LIMIT 1")


# -- permissions --------------------------------------------------------------------------------------------
STEPS = {  # step -> (who tries it without the permission, the permission it needs)
    "queue_row": ("aud", "adjudicate", lambda x, a, who: adjudication.queue_row(x.store, who, a)),
    "queue_rows": ("aud", "adjudicate", lambda x, a, who: adjudication.queue_rows(x.store, who, x.dep)),
    "alert_detail": ("op", "view_decisions", lambda x, a, who: adjudication.alert_detail(x.store, who, a, "decision log")),
    "claim": ("aud", "adjudicate", lambda x, a, who: adjudication.claim(x.store, who, a)),
    "open_alert": ("aud", "adjudicate", lambda x, a, who: adjudication.open_alert(x.store, who, a)),
    "confirm": ("aud", "adjudicate", lambda x, a, who: adjudication.confirm(x.store, who, a)),
    "reject": ("aud", "adjudicate", lambda x, a, who: adjudication.reject(x.store, who, a, "look_alike")),
    "escalate": ("aud", "adjudicate", lambda x, a, who: adjudication.escalate(x.store, who, a, "unsure")),
    "return_to_queue": ("aud", "adjudicate", lambda x, a, who: adjudication.return_to_queue(x.store, who, a)),
    "record_outcome": ("aud", "record_engagement",
                       lambda x, a, who: adjudication.record_outcome(x.store, who, a, "confirmed_true", "arrest")),
    "correct_decision": ("op", "correct_decision",
                         lambda x, a, who: corrections.correct_decision(x.store, who, 1, "false_alert", "look_alike", "n")),
}


@pytest.mark.parametrize("step", sorted(STEPS))
def test_each_review_step_refuses_a_role_without_the_permission_and_logs_the_refusal(w, step):
    name, permission, call = STEPS[step]
    a = w.make()
    with pytest.raises(PermissionDenied):
        call(w, a, getattr(w, name))
    last = _last_audit(w.store)
    assert (last["actor"], last["action"], last["subject_type"], last["subject_id"]) == (
        name, "access.refused", "permission", permission)
    assert w.store.one("SELECT status, claimed_by FROM alerts WHERE id = ?", (a,))[:] == ("pending", None)


# -- what the reviewer is shown -----------------------------------------------------------------------------
def test_a_queue_row_shows_the_alert_with_its_camera_person_and_both_thumbnails(w):
    a = w.make()
    row = adjudication.queue_row(w.store, w.op, a)
    assert {k: row[k] for k in ("id", "score", "threshold", "status", "priority", "camera", "subject_name",
                                "record_number", "category", "probe_jpeg", "candidate_jpeg", "stored_at")} == {
        "id": a, "score": pytest.approx(0.71234567), "threshold": 0.4, "status": "pending", "priority": 1,
        "camera": "Cam 1", "subject_name": "Person", "record_number": "R-1", "category": "risk_to_others",
        "probe_jpeg": b"probe", "candidate_jpeg": b"jpeg", "stored_at": T_TEXT}
    assert adjudication.queue_row(w.store, w.op, 999) == {}  # gone (purged, say): an empty row, not a crash


def test_looking_back_shows_the_whole_alert_as_it_was_recorded(w, now):
    a = w.make()
    repo.add_alert_view(w.store, a, b"later view", 0.9, {}, "2026-01-01T09:00:02Z")
    repo.add_alert_view(w.store, a, b"earlier view", 0.8, {}, "2026-01-01T09:00:01Z")
    adjudication.open_alert(w.store, w.op, a)
    now.at(2)
    adjudication.escalate(w.store, w.op, a, "not sure")
    adjudication.return_to_queue(w.store, w.op, a)
    now.at(5)
    adjudication.open_alert(w.store, w.sup, a)
    decision = adjudication.reject(w.store, w.sup, a, "look_alike", "a look-alike")

    detail = adjudication.alert_detail(w.store, w.aud, a, "decision log")

    assert detail == adjudication.AlertDetail(
        alert_id=a, camera="Cam 1", camera_id=w.cam, track_id=3, captured_at="2026-01-01T09:00:00Z",
        stored_at=T_TEXT, score=pytest.approx(0.71234567), threshold=0.4, model_id="m", priority=1,
        status="decided", escalated_at="2026-06-01T10:00:02.000000Z", probe_jpeg=b"probe", context_jpeg=b"ctx",
        bbox=[1, 2, 3, 4], quality={"score": 0.8},
        candidates=[
            adjudication.CandidateView(1, w.entry, pytest.approx(0.71234567), "Person", "R-1", "risk_to_others", "basis",
                                 "reason", "src", "2024-01-01", "2027-01-01", b"jpeg"),
            adjudication.CandidateView(2, w.other, 0.5, "Other", "R-2", "missing_person", "basis 2", "reason 2", "src 2",
                                 "2023-05-05", "2028-01-01", b"jpeg 2")],
        views=[("2026-01-01T09:00:01Z", b"earlier view", 0.8), ("2026-01-01T09:00:02Z", b"later view", 0.9)],
        decisions=[{"id": decision, "decision": "false_alert", "reason_code": "look_alike", "reason": "a look-alike",
                    "decided_at": "2026-06-01T10:00:05.000000Z", "duration_ms": 0, "supersedes": None,
                    "username": "sup"}],  # the supervisor opened and decided it at the same instant
        incident_id=a, sightings=({"id": a, "camera_id": w.cam, "camera": "Cam 1", "captured_at": "2026-01-01T09:00:00Z",
                                   "stored_at": T_TEXT, "score": pytest.approx(0.71234567), "status": "decided",
                                   "track_id": 3, "entry_id": w.entry},))
    last = _last_audit(w.store)
    assert (last["actor"], last["action"], last["subject_type"], last["subject_id"]) == ("aud", "alert.viewed",
                                                                                         "alert", str(a))


def test_an_alert_that_does_not_exist_is_named_in_the_refusal(w):
    with pytest.raises(adjudication.DecisionError) as refused:
        adjudication.alert_detail(w.store, w.aud, 999, "decision log")
    assert str(refused.value) == "alert 999 does not exist"
    for step in (adjudication.claim, adjudication.confirm, adjudication.escalate):
        with pytest.raises(adjudication.DecisionError) as refused:
            step(w.store, w.op, 999)
        assert str(refused.value) == "alert 999 does not exist"


# -- the claim ----------------------------------------------------------------------------------------------
def test_opening_claims_the_alert_for_sixty_seconds(w):
    a = w.make()
    adjudication.open_alert(w.store, w.op, a)
    row = w.store.one("SELECT claimed_by, claim_expires FROM alerts WHERE id = ?", (a,))
    assert (row["claimed_by"], row["claim_expires"]) == (w.op.user_id, "2026-06-01T10:01:00.000000Z")


def test_a_decided_alert_cannot_be_claimed(w):
    a = w.make()
    adjudication.open_alert(w.store, w.op, a)
    adjudication.confirm(w.store, w.op, a)
    with pytest.raises(adjudication.DecisionError) as refused:
        adjudication.claim(w.store, w.op2, a)
    assert str(refused.value) == f"alert {a} is already decided"


def test_a_lease_is_over_at_its_expiry_time(w, now):
    a = w.make()
    adjudication.open_alert(w.store, w.op, a)
    now.at(59)
    with pytest.raises(adjudication.DecisionError, match="being reviewed by op"):
        adjudication.confirm(w.store, w.op2, a)
    now.at(60)
    adjudication.open_alert(w.store, w.op2, a)
    assert adjudication.confirm(w.store, w.op2, a) is not None


# -- how long a decision took -------------------------------------------------------------------------------
def test_a_decision_records_the_milliseconds_since_this_reviewer_opened_the_alert(w, now):
    confirmed, rejected = w.make(), w.make()
    adjudication.open_alert(w.store, w.op, confirmed)
    adjudication.open_alert(w.store, w.op2, rejected)
    now.at(1.5)
    adjudication.confirm(w.store, w.op, confirmed)
    now.at(2.25)
    adjudication.reject(w.store, w.op2, rejected, "image_too_poor")
    rows = w.store.query("SELECT alert_id, decision, reason, reason_code, duration_ms FROM decisions ORDER BY id")
    assert [tuple(r) for r in rows] == [(confirmed, "true_alert", "", "same_person", 1500),
                                        (rejected, "false_alert", "Image too poor to decide", "image_too_poor", 2250)]


def test_a_rejection_keeps_the_reviewers_note_or_else_names_the_reason(w):
    with_note, without = w.make(), w.make()
    adjudication.open_alert(w.store, w.op, with_note)
    adjudication.reject(w.store, w.op, with_note, "look_alike", "his brother, seen at alert 4")
    adjudication.open_alert(w.store, w.op, without)
    adjudication.reject(w.store, w.op, without, "look_alike")
    reasons = [r["reason"] for r in w.store.query("SELECT reason FROM decisions ORDER BY id")]
    assert reasons == ["his brother, seen at alert 4", "Look-alike"]


def test_duplicate_is_no_longer_a_reason_a_reviewer_may_give(w):
    with pytest.raises(adjudication.DecisionError) as refused:
        adjudication.reject(w.store, w.op, w.make(), "duplicate")
    assert "one incident now" in str(refused.value)
    assert w.store.query("SELECT id FROM decisions") == []


def test_a_rejection_without_a_fixed_reason_lists_them(w):
    with pytest.raises(adjudication.DecisionError) as refused:
        adjudication.reject(w.store, w.op, w.make(), "dunno")
    assert str(refused.value) == ("a rejection needs a reason, one of: different_person, image_too_poor, look_alike, "
                                  "test")


# -- the two-person rule --------------------------------------------------------------------------------------
@pytest.fixture
def two_person(w):
    deployments.set_two_person_rule(w.store, w.sup, w.dep, True, "force policy")
    return w


def test_a_first_confirmation_is_recorded_with_who_and_which_candidate(two_person):
    w = two_person
    a = w.make()
    adjudication.open_alert(w.store, w.op, a)
    assert adjudication.confirm(w.store, w.op, a, "looks like him") is None
    row = w.store.one("SELECT status, first_confirmed_by, first_confirmed_entry FROM alerts WHERE id = ?", (a,))
    assert tuple(row) == ("pending", w.op.user_id, w.entry)
    last = _last_audit(w.store)
    assert (last["actor"], last["action"], last["subject_type"], last["subject_id"]) == (
        "op", "decision.first_confirmation", "alert", str(a))
    assert json.loads(last["details_json"]) == {"user_id": w.op.user_id, "note": "looks like him",
                                                "candidate_entry_id": w.entry, "candidate_rank": 1,
                                                "candidate_score": 0.7123}
    assert w.store.query("SELECT id FROM decisions") == []


def test_the_same_user_cannot_confirm_twice(two_person):
    w = two_person
    a = w.make()
    adjudication.open_alert(w.store, w.op, a)
    adjudication.confirm(w.store, w.op, a)
    adjudication.open_alert(w.store, w.op, a)
    with pytest.raises(adjudication.DecisionError) as refused:
        adjudication.confirm(w.store, w.op, a)
    assert str(refused.value) == "the two-person rule applies: a second, different user must confirm this alert"
    assert w.store.query("SELECT id FROM decisions") == []


def test_a_second_confirmation_naming_another_person_is_refused_with_the_way_out(two_person):
    w = two_person
    a = w.make()
    adjudication.open_alert(w.store, w.op, a)
    adjudication.confirm(w.store, w.op, a)
    adjudication.open_alert(w.store, w.op2, a)
    with pytest.raises(adjudication.DecisionError) as refused:
        adjudication.confirm(w.store, w.op2, a, entry_id=w.other)
    assert str(refused.value) == ("the first confirmation named a different candidate: the two confirmations must "
                                  "name the same person (escalate if you disagree)")
    assert w.store.query("SELECT id FROM decisions") == []


def test_the_second_confirmation_decides_and_says_whose_was_first(two_person):
    w = two_person
    with_note, without = w.make(), w.make()
    for a in (with_note, without):
        adjudication.open_alert(w.store, w.op, a)
        adjudication.confirm(w.store, w.op, a)
    adjudication.open_alert(w.store, w.op2, with_note)
    adjudication.confirm(w.store, w.op2, with_note, "agreed")
    adjudication.open_alert(w.store, w.op2, without)
    adjudication.confirm(w.store, w.op2, without)
    rows = w.store.query("SELECT alert_id, user_id, decision, reason, reason_code, candidate_entry_id FROM decisions"
                         " ORDER BY id")
    first = f"second confirmation (first by user {w.op.user_id})."
    assert [tuple(r) for r in rows] == [(with_note, w.op2.user_id, "true_alert", first + " agreed", "same_person",
                                         w.entry),
                                        (without, w.op2.user_id, "true_alert", first, "same_person", w.entry)]


def test_a_first_confirmation_recorded_before_candidates_were_named_takes_any_second(two_person):
    w = two_person
    a = w.make()
    adjudication.open_alert(w.store, w.op, a)
    adjudication.confirm(w.store, w.op, a)
    w.store.conn.execute("UPDATE alerts SET first_confirmed_entry = NULL WHERE id = ?", (a,))  # as an older release left it
    adjudication.open_alert(w.store, w.op2, a)
    decision = adjudication.confirm(w.store, w.op2, a, entry_id=w.other)
    assert w.store.one("SELECT candidate_entry_id FROM decisions WHERE id = ?", (decision,))[0] == w.other


# -- escalation ------------------------------------------------------------------------------------------------
def test_escalating_an_opened_alert_records_the_note_and_refuses_an_empty_one(w):
    noted, plain = w.make(), w.make()
    adjudication.open_alert(w.store, w.op, noted)
    adjudication.escalate(w.store, w.op, noted, "not sure")
    adjudication.open_alert(w.store, w.op, plain)
    with pytest.raises(adjudication.DecisionError, match="needs a note"):
        adjudication.escalate(w.store, w.op, plain, " ")
    events = w.store.query("SELECT alert_id, details_json FROM alert_events WHERE event = 'escalated' ORDER BY id")
    assert [(r["alert_id"], json.loads(r["details_json"])) for r in events] == [(noted, {"note": "not sure"})]
    with pytest.raises(adjudication.DecisionError) as refused:  # escalated: no longer an operator's decision
        adjudication.escalate(w.store, w.op, noted, "again")
    assert str(refused.value) == f"alert {noted} was escalated: a supervisor decides it"


# -- outcomes ---------------------------------------------------------------------------------------------------
def test_outcome_refusals_list_what_may_be_recorded(w):
    a = w.make()
    adjudication.open_alert(w.store, w.op, a)
    adjudication.confirm(w.store, w.op, a)
    with pytest.raises(adjudication.DecisionError) as refused:
        adjudication.record_outcome(w.store, w.eo, a, "maybe", "arrest")
    assert str(refused.value) == ("unknown engagement result 'maybe'; use one of confirmed_true, confirmed_false, "
                                  "not_located")
    with pytest.raises(adjudication.DecisionError) as refused:
        adjudication.record_outcome(w.store, w.eo, a, "confirmed_true", "tasered")
    assert str(refused.value) == "unknown action 'tasered'; use one of arrest, words_of_advice, no_further_action, other"
    with pytest.raises(adjudication.DecisionError) as refused:
        adjudication.record_outcome(w.store, w.eo, a, "confirmed_true", "other", "  ")
    assert str(refused.value) == "an outcome of 'other' needs a note saying what was done"
    assert w.store.query("SELECT id FROM engagements") == []


# -- corrections ------------------------------------------------------------------------------------------------
def test_a_correction_keeps_a_rejection_reason_only_for_a_rejection(w):
    a = w.make()
    adjudication.open_alert(w.store, w.op, a)
    first = adjudication.reject(w.store, w.op, a, "look_alike")
    to_true = corrections.correct_decision(w.store, w.sup, first, "true_alert", "", "it was him after all")
    to_false = corrections.correct_decision(w.store, w.sup, to_true, "false_alert", "different_person", "twin brother")
    to_true_again = corrections.correct_decision(w.store, w.sup, to_false, "true_alert", "look_alike", "no twin")
    rows = w.store.query("SELECT id, decision, reason_code, reason, supersedes FROM decisions ORDER BY id")
    assert [tuple(r) for r in rows] == [
        (first, "false_alert", "look_alike", "Look-alike", None),
        (to_true, "true_alert", "", "it was him after all", first),
        (to_false, "false_alert", "different_person", "twin brother", to_true),
        (to_true_again, "true_alert", "", "no twin", to_false)]


def test_correction_refusals_say_what_is_missing(w):
    a = w.make()
    adjudication.open_alert(w.store, w.op, a)
    first = adjudication.confirm(w.store, w.op, a)
    with pytest.raises(adjudication.DecisionError) as refused:
        corrections.correct_decision(w.store, w.sup, first, "false_alert", "look_alike", " ")
    assert str(refused.value) == "a correction needs a note saying why"
    with pytest.raises(StoreError) as refused:
        corrections.correct_decision(w.store, w.sup, 999, "false_alert", "look_alike", "why")
    assert str(refused.value) == "decision 999 does not exist"
    with pytest.raises(adjudication.DecisionError) as refused:
        corrections.correct_decision(w.store, w.sup, first, "false_alert", "", "why")
    assert str(refused.value) == ("a rejection needs a reason, one of: different_person, image_too_poor, look_alike, "
                                  "test")
    assert len(w.store.query("SELECT id FROM decisions")) == 1


# -- found while writing these tests --------------------------------------------------------------------------
def test_an_escalated_alert_is_free_for_a_supervisor_at_once(w):
    a = w.make()
    adjudication.open_alert(w.store, w.op, a)
    adjudication.escalate(w.store, w.op, a, "not sure")
    adjudication.open_alert(w.store, w.sup, a)
    assert adjudication.reject(w.store, w.sup, a, "look_alike", "a look-alike: checked the ears") is not None


def test_a_first_confirmation_leaves_the_alert_free_for_the_second_reviewer(two_person):
    w = two_person
    a = w.make()
    adjudication.open_alert(w.store, w.op, a)
    assert adjudication.confirm(w.store, w.op, a) is None
    adjudication.open_alert(w.store, w.op2, a)
    assert adjudication.confirm(w.store, w.op2, a) is not None
