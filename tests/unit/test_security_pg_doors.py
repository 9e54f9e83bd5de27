"""Issue 32, item 2: two insider doors closed on PostgreSQL (console/store/pg_doors.py, migration 26).

Tried with a seat's own database credential, as a person with psql would: with no session, with an
operator's, an auditor's, an administrator's and a worker's. The lockout moves only through the
sign-in functions; alerts, claims and decisions only as each role and deployment allows. Each
attack is beside the legitimate path it must not block."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import psycopg
import pytest

from console.services.accounts import auth, worker_access
from console.services.decisions import adjudication, corrections
from console.store import open_location, repo
from tests.unit.test_security_pg_seat import (
    PASSWORD,
    _alert,
    _as,
    _decision_sql,
    _people,
    _refused,
    seat_url,  # noqa: F401 - the fixture, shared
)


def _count(raw, name: str) -> tuple:
    return raw.execute("SELECT failed_logins, locked_until FROM users WHERE username = %s", (name,)).fetchone()


def test_security_a_seat_cannot_lock_another_account_by_writing_the_counter_refused(seat_url):  # noqa: F811
    url, owner_url = seat_url
    ids = _people(owner_url)
    with open_location(url) as seat:
        ann, chief = auth.login(seat, "ann", PASSWORD), auth.login(seat, "chief", PASSWORD)
    with psycopg.connect(url, autocommit=True) as raw:
        for token in ("", ann.token, chief.token):  # nobody, an operator, an administrator
            _as(raw, token)
            _refused(raw, "UPDATE users SET failed_logins = 5 WHERE username = 'bob'")
            _refused(raw, "UPDATE users SET locked_until = '2999-01-01T00:00:00Z' WHERE username = 'bob'")
            _refused(raw, "UPDATE users SET failed_logins = 0, locked_until = '2999-01-01T00:00:00Z'"
                          " WHERE username = 'bob'")
        assert _count(raw, "bob") == (0, None)
        _as(raw, "")
        # The function counts one failure for the name tried, and locks nothing before the tries are used up.
        assert raw.execute("SELECT orc_take_try(%s, '2999-01-01T00:00:00Z')", (ids["bob"],)).fetchone()[0] == 1
        assert raw.execute("SELECT orc_lock_out(%s, '2999-01-01T00:00:00Z', '2999-01-01T00:00:00Z')",
                           (ids["bob"],)).fetchone()[0] is None
        assert _count(raw, "bob") == (1, None)
        assert _count(raw, "ann") == (0, None)  # nobody else's count moved
    with open_location(url) as seat:  # the right password gives the try back
        assert auth.login(seat, "bob", PASSWORD).role == "operator"
        assert repo.get_user(seat, "bob")["failed_logins"] == 0


def test_security_a_seat_locks_an_account_only_by_wrong_passwords_and_an_administrator_unlocks_it(seat_url):  # noqa: F811
    url, owner_url = seat_url
    _people(owner_url)
    with open_location(url) as seat:
        for _ in range(auth.MAX_FAILURES):  # the console's clock says 2000: the database's decides
            with pytest.raises(auth.LoginError):
                auth.login(seat, "bob", "not his password at all", datetime(2000, 1, 1, tzinfo=UTC))
        row = repo.get_user(seat, "bob")
        assert row["failed_logins"] == 0 and row["locked_until"] > "2026"  # locked, on the database's clock
        last = json.loads(seat.query("SELECT details_json FROM audit_log WHERE action = 'login.failed'"
                                     " ORDER BY seq DESC LIMIT 1")[0]["details_json"])
        assert last["failures"] == auth.MAX_FAILURES and last["locked_until"] == row["locked_until"]  # as locked
        with pytest.raises(auth.LoginError):
            auth.login(seat, "bob", PASSWORD)  # locked: the right password too
        chief = auth.login(seat, "chief", PASSWORD)
        auth.set_active(seat, chief, "bob", True)  # enabling clears the lockout: an administrator may
        assert repo.get_user(seat, "bob")["locked_until"] is None
        assert auth.login(seat, "bob", PASSWORD).role == "operator"


def _second_deployment(owner_url: str) -> tuple[int, int]:
    """As the owner: another active deployment with a camera; (deployment id, camera id)."""
    with open_location(owner_url) as owner:
        sup = int(owner.one("SELECT id FROM users WHERE username = 'sup'")["id"])
        dep = repo.create_deployment(owner, repo.DeploymentSpec("D2", "P2", "R", "2026-01-01T00:00:00Z",
                                                                "2099-01-01T00:00:00Z", 0.4, 0.363, "m"), sup, "sup")
        repo.activate_deployment(owner, dep, "sup")
        return dep, repo.add_camera(owner, dep, "Cam 2", "demo:1", "sup")


def _alert_sql(dep: int, cam: int) -> str:
    return ("INSERT INTO alerts(deployment_id, camera_id, track_id, entry_id, score, threshold, model_id, bbox_json,"
            " quality_json, probe_sha256, context_sha256, captured_at, stored_at) SELECT"
            f" {dep}, {cam}, 99, id, 0.9, 0.4, 'm', '[]', '{{}}', 'p', 'c', '2026-01-01', '2026-01-01'"
            " FROM watchlist_entries LIMIT 1")


def test_security_alerts_go_in_only_for_a_camera_of_their_deployment_and_the_right_writer_refused(
        seat_url):  # noqa: F811
    url, owner_url = seat_url
    _people(owner_url)
    dep2, cam2 = _second_deployment(owner_url)
    with open_location(url) as seat:
        dep, cam = (int(v) for v in seat.one("SELECT id, (SELECT MIN(id) FROM cameras) AS c FROM deployments"
                                             " WHERE name = 'D'").values())
        chief = auth.login(seat, "chief", PASSWORD)
        worker = worker_access.authenticate(seat, worker_access.issue(seat, chief, dep, "gate").token, dep)
        aud, ann = auth.login(seat, "aud", PASSWORD), auth.login(seat, "ann", PASSWORD)
    with psycopg.connect(url, autocommit=True) as raw:
        _refused(raw, _alert_sql(dep, cam2))  # another deployment's camera
        for person in (aud, chief):  # an auditor or an administrator raises no alert
            _as(raw, person.token)
            _refused(raw, _alert_sql(dep, cam))
        _as(raw, worker.token)
        _refused(raw, _alert_sql(dep2, cam2))  # a worker writes for its own deployment only
        raw.execute(_alert_sql(dep, cam))  # ... and does for it (the control)
        _as(raw, ann.token)
        raw.execute(_alert_sql(dep, cam))  # a signed-in operator's session
        token = raw.execute("SELECT orc_open_recognition(%s)", (dep,)).fetchone()[0]  # the seat's recognition
        _as(raw, "")
        _refused(raw, _alert_sql(dep, cam))  # with nobody's session: no alert (migration 27)
        _refused(raw, f"SELECT orc_open_recognition({dep})")  # nor a token
        _as(raw, token)
        raw.execute(_alert_sql(dep, cam))  # the recognition token writes its own deployment's alerts
        _refused(raw, _alert_sql(dep, cam2))  # ... for its own cameras
        _refused(raw, _alert_sql(dep2, cam2))  # ... only those
        _refused(raw, "SELECT * FROM orc_recognition")
        for person in (aud, chief):  # who may not start recognition gets no token
            _as(raw, person.token)
            _refused(raw, f"SELECT orc_open_recognition({dep})")
        _as(raw, worker.token)
        _refused(raw, f"SELECT orc_open_recognition({dep2})")  # a worker: its own deployment's only
        assert raw.execute("SELECT orc_open_recognition(%s)", (dep,)).fetchone()[0].startswith("orcr1.")
        _as(raw, "")
        raw.execute("SELECT orc_end_recognition(%s)", (token,))  # ended (the console stops its cameras)
        _as(raw, token)
        _refused(raw, _alert_sql(dep, cam))
        _as(raw, "made-up")
        _refused(raw, _alert_sql(dep, cam))
        assert raw.execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == 3


def test_security_claims_evidence_and_decisions_are_the_signed_in_persons_own_refused(seat_url):  # noqa: F811
    url, owner_url = seat_url
    ids = _people(owner_url)
    with open_location(url) as seat:
        a1, a2, a3 = _alert(seat), _alert(seat), _alert(seat)
        ann, sup = auth.login(seat, "ann", PASSWORD), auth.login(seat, "sup", PASSWORD)
        aud = auth.login(seat, "aud", PASSWORD)
    with psycopg.connect(url, autocommit=True) as raw:
        _refused(raw, f"UPDATE alerts SET claimed_by = {ids['ann']} WHERE id = {a1}")  # nobody signed in
        _as(raw, aud.token)
        _refused(raw, f"UPDATE alerts SET claimed_by = {ids['aud']} WHERE id = {a1}")  # an auditor claims nothing
        _refused(raw, f"UPDATE alerts SET escalated_at = '2026-01-01' WHERE id = {a1}")
        _as(raw, ann.token)
        _refused(raw, f"UPDATE alerts SET claimed_by = {ids['bob']} WHERE id = {a1}")  # in another's name
        _refused(raw, f"UPDATE alerts SET first_confirmed_by = {ids['bob']} WHERE id = {a1}")
        raw.execute(f"UPDATE alerts SET claimed_by = {ids['ann']}, claim_expires = '2999-01-01' WHERE id = {a1}")
        for evidence in ("score = 0.99", "threshold = 0.1", "entry_id = entry_id + 0", "camera_id = camera_id",
                         "probe_sha256 = 'forged'", "captured_at = '2020-01-01'", "incident_id = NULL",
                         "probe_jpeg = 'forged'::bytea", "status = 'decided'"):
            if evidence in ("entry_id = entry_id + 0", "camera_id = camera_id"):
                raw.execute(f"UPDATE alerts SET {evidence} WHERE id = {a1}")  # unchanged: nothing to refuse
                continue
            _refused(raw, f"UPDATE alerts SET {evidence} WHERE id = {a1}")
        _refused(raw, _decision_sql(a1, ids["ann"]).replace("score, probe_sha256 FROM", "0.99, probe_sha256 FROM"))
        raw.execute(_decision_sql(a1, ids["ann"]))  # her own, stating the alert's facts (the control)
        raw.execute(f"UPDATE alerts SET status = 'decided', claimed_by = NULL WHERE id = {a1}")  # decided by it
        _refused(raw, _decision_sql(a1, ids["ann"]))  # a second first decision of a decided alert
        first = raw.execute("SELECT id FROM decisions").fetchone()[0]
        _refused(raw, _decision_sql(a2, ids["ann"]).replace(
            "decided_at, model_id", "decided_at, supersedes, model_id").replace(
            "'2026-01-01T09:01:00Z', model_id", f"'2026-01-01T09:01:00Z', {first}, model_id"))  # "corrects" another
        _refused(raw, f"UPDATE alerts SET status = 'pending' WHERE id = {a1}")  # a decision is not undone
        _as(raw, "")
        raw.execute(f"UPDATE alerts SET probe_jpeg = NULL, context_jpeg = NULL, purged_at = '2026-02-01'"
                    f" WHERE id = {a3}")  # retention blanks images (the safe direction)
        _refused(raw, f"UPDATE alerts SET purged_at = NULL WHERE id = {a3}")
    with open_location(url) as seat:  # the console's own paths, at the seat, as each person
        adjudication.open_alert(seat, ann, a2)  # her claim, then the escalation hands it on
        adjudication.escalate(seat, ann, a2, "a second look")
        adjudication.open_alert(seat, sup, a2)
        decision = adjudication.reject(seat, sup, a2, "look_alike", "not the person on the list")
        corrections.correct_decision(seat, sup, decision, "true_alert", "", "seen again on review")
        rows = seat.query("SELECT decision, supersedes FROM decisions WHERE alert_id = ? ORDER BY id", (a2,))
        assert [(r["decision"], r["supersedes"]) for r in rows] == [("false_alert", None), ("true_alert", decision)]
        latest = int(seat.one("SELECT MAX(id) AS id FROM decisions WHERE alert_id = ?", (a2,))["id"])
    correction = _decision_sql(a2, ids["sup"]).replace("decided_at, model_id", "decided_at, supersedes, model_id").replace(
        "'2026-01-01T09:01:00Z', model_id", f"'2026-01-01T09:01:00Z', {latest}, model_id")
    with psycopg.connect(owner_url, autocommit=True) as owner:
        owner.execute("UPDATE deployments SET state = 'ended'")
    with psycopg.connect(url, autocommit=True) as raw:
        _as(raw, sup.token)
        _refused(raw, correction)  # an ended deployment's record is read-only


def test_security_a_lease_moves_only_as_the_pool_hands_cameras_over_refused(seat_url):  # noqa: F811
    from console.store import leases

    url, owner_url = seat_url
    _people(owner_url)
    _dep2, cam2 = _second_deployment(owner_url)
    with open_location(url) as seat:
        dep = int(seat.one("SELECT id FROM deployments WHERE name = 'D'")["id"])
        with seat.transaction() as conn:  # the pool's own path: join, take, renew, release
            leases.join(conn, seat.dialect, "w1", dep, "host-1")
            cam = next(iter(leases.take(seat, conn, "w1", "worker:w1", dep, 1, 4.0)))
            assert cam in leases.renew(conn, seat.dialect, "w1", dep, "host-1", 4.0)
    with psycopg.connect(url, autocommit=True) as raw:
        _refused(raw, f"INSERT INTO camera_leases(camera_id, deployment_id) VALUES ({cam2}, {dep})")
        _refused(raw, f"UPDATE camera_leases SET worker_id = 'intruder' WHERE camera_id = {cam}")  # a live lease
        _refused(raw, f"UPDATE camera_leases SET worker_id = 'intruder', epoch = epoch + 1 WHERE camera_id = {cam}")
        _refused(raw, f"UPDATE camera_leases SET epoch = 0 WHERE camera_id = {cam}")  # the fence's count goes back
        _refused(raw, f"UPDATE camera_leases SET deployment_id = {_dep2} WHERE camera_id = {cam}")
        _refused(raw, f"UPDATE camera_leases SET expires_s = expires_s + 3600 WHERE camera_id = {cam}")
    with open_location(url) as seat, seat.transaction() as conn:
        assert leases.release(seat, conn, "w1", "worker:w1", [cam], "test") == [cam]
        assert leases.take(seat, conn, "w2", "worker:w2", dep, 1, 4.0) == {cam: 2}  # free again: handed over
