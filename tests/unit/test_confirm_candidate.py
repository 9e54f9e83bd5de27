"""A confirmation names the person (issue 14, item 4): the decision and its audit entry record
which candidate was confirmed and its score; a candidate the alert does not have is refused; the
two-person rule's second confirmation must name the same person. On both databases."""

import json

import numpy as np
import pytest

from console.services.accounts.auth import actor_for
from console.services.decisions import adjudication
from console.services.setup import deployments
from console.store import audit, repo
from tests.factories import small_deployment


@pytest.fixture
def two_candidates(db):
    d = small_deployment(db, operators=("ann", "bob"))
    second = repo.add_entry(db, d.watchlist_id, repo.EntrySpec("R-2", "Second person", "missing_person", "b", "r",
                                                                 "s", "2025-01-01", "2099-01-01"), d.supervisor_id, "sup")
    image2 = repo.add_entry_image(db, second, b"j2", np.ones(128, np.float32), "m", {}, "sup")

    def alert() -> int:
        return repo.insert_alert(db, repo.AlertRecord(
            d.deployment_id, d.camera_id, 1, [(d.entry_id, d.image_id, 0.71), (second, image2, 0.52)], 0.4, "m",
            [0, 0, 1, 1], {}, b"p", b"c", "2026-01-01T09:00:00Z"))

    return db, d, second, alert


def _entry(db, alert_id: int, action: str) -> dict:
    row = db.one("SELECT details_json FROM audit_log WHERE subject_id = ? AND action = ? ORDER BY seq DESC",
                 (str(alert_id), action))
    return json.loads(row["details_json"])


def test_the_top_candidate_is_named_when_none_is_chosen(two_candidates):
    db, d, _, alert = two_candidates
    ann = actor_for(db, "ann")
    a = alert()
    adjudication.open_alert(db, ann, a)
    decision = adjudication.confirm(db, ann, a)
    row = db.one("SELECT * FROM decisions WHERE id = ?", (decision,))
    assert (row["candidate_entry_id"], row["candidate_score"]) == (d.entry_id, pytest.approx(0.71))
    entry = _entry(db, a, "decision.recorded")
    assert (entry["candidate_entry_id"], entry["candidate_rank"], entry["candidate_score"]) == (d.entry_id, 1, 0.71)


def test_confirming_the_second_candidate_records_that_person_and_their_photo(two_candidates):
    db, d, second, alert = two_candidates
    ann = actor_for(db, "ann")
    a = alert()
    adjudication.open_alert(db, ann, a)
    decision = adjudication.confirm(db, ann, a, entry_id=second)
    row = db.one("SELECT * FROM decisions WHERE id = ?", (decision,))
    assert row["candidate_entry_id"] == second and row["candidate_score"] == pytest.approx(0.52)
    assert row["candidate_sha256"] == repo.sha256(b"j2")  # the confirmed person's photo, not the top one's
    entry = _entry(db, a, "decision.recorded")
    assert (entry["candidate_entry_id"], entry["candidate_rank"]) == (second, 2)
    assert audit.verify_chain(db).ok and audit.verify_records(db) == []


def test_a_candidate_the_alert_does_not_have_is_refused(two_candidates):
    db, d, _, alert = two_candidates
    ann = actor_for(db, "ann")
    a = alert()
    adjudication.open_alert(db, ann, a)
    with pytest.raises(adjudication.DecisionError, match="not a candidate"):
        adjudication.confirm(db, ann, a, entry_id=999)
    assert db.one("SELECT COUNT(*) AS n FROM decisions")["n"] == 0


def test_emptying_the_named_candidate_afterwards_is_detected(two_candidates):
    from tests.conftest import drop_append_only_guards

    db, d, second, alert = two_candidates
    ann = actor_for(db, "ann")
    a = alert()
    adjudication.open_alert(db, ann, a)
    decision = adjudication.confirm(db, ann, a, entry_id=second)
    drop_append_only_guards(db, "decisions")
    with db.transaction() as conn:
        conn.execute("UPDATE decisions SET candidate_entry_id = NULL, candidate_score = NULL WHERE id = ?", (decision,))
    assert audit.verify_records(db) == [f"decision {decision} was changed after it was recorded (audit entry "
                                        f"{db.one('SELECT MAX(seq) AS s FROM audit_log')['s']})"]


def test_the_second_confirmation_must_name_the_same_person(two_candidates):
    db, d, second, alert = two_candidates
    ann, bob = actor_for(db, "ann"), actor_for(db, "bob")
    deployments.set_two_person_rule(db, actor_for(db, "sup"), d.deployment_id, True, "policy")
    a = alert()
    adjudication.open_alert(db, ann, a)
    assert adjudication.confirm(db, ann, a, entry_id=second) is None
    assert _entry(db, a, "decision.first_confirmation")["candidate_entry_id"] == second
    adjudication.return_to_queue(db, ann, a)
    adjudication.open_alert(db, bob, a)
    with pytest.raises(adjudication.DecisionError, match="different candidate"):
        adjudication.confirm(db, bob, a)  # the top candidate: not who the first reviewer named
    decision = adjudication.confirm(db, bob, a, entry_id=second)
    assert db.one("SELECT candidate_entry_id FROM decisions WHERE id = ?", (decision,))["candidate_entry_id"] == second
