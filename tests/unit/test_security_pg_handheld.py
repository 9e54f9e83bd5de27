"""The handheld on a shared PostgreSQL store, worked through a seat's credential (migration 22): the
officer's phone writes under the database's own row-level security, and a seat's credential cannot
make a device, give pairing codes back their tries, dispatch or report in someone else's name."""

from __future__ import annotations

import pytest

from console.services.accounts import auth
from console.services.decisions import adjudication
from console.services.engage import dispatch, pairing
from console.store import pg_handheld, repo
from tests.unit.test_security_pg_seat import PASSWORD, _alert, _as, _people, _refused, seat_url  # noqa: F401


def _officer(owner_url: str) -> int:
    from console.store import open_location

    with open_location(owner_url) as owner:
        uid = repo.create_user(owner, "pc1", "PC One", "engagement_officer")
        with owner.transaction() as conn:
            conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (auth.hash_password(PASSWORD), uid))
        return uid


def test_the_limits_in_the_database_match_the_service():
    assert pg_handheld.MAX_FAILURES == pairing.MAX_FAILURES
    assert pg_handheld.DEVICE_TTL == f"{int(pairing.DEVICE_TTL.total_seconds() // 3600)} hours"


def test_security_a_phone_works_through_a_seat_credential_and_the_seat_cannot_forge_it_refused(seat_url):  # noqa: F811
    import psycopg

    from console.store import open_location

    url, owner_url = seat_url
    ids = _people(owner_url)
    pc1 = _officer(owner_url)
    with open_location(url) as seat:
        sup = auth.login(seat, "sup", PASSWORD)
        ann = auth.login(seat, "ann", PASSWORD)
        dep = seat.one("SELECT id FROM deployments")["id"]
        code = pairing.start_pairing(seat, sup, "pc1", dep)
        token, phone = pairing.pair(seat, code.code, "phone")
        assert phone.officer_id == pc1
        alert_id = _alert(seat)
        adjudication.open_alert(seat, ann, alert_id)
        adjudication.confirm(seat, ann, alert_id, "same scar")
        sent = dispatch.send(seat, ann, alert_id)
        device = pairing.device_for(seat, token)
        assert dispatch.card(seat, device, sent.dispatch_id)["operator_note"] == "same scar"
        engagement = dispatch.record_outcome(seat, device, sent.dispatch_id, True, True, "arrest")
        row = seat.one("SELECT recorded_by, recorded_via FROM engagements WHERE id = ?", (engagement,))
        assert (row["recorded_by"], row["recorded_via"]) == (pc1, "handheld")
        open_code = pairing.start_pairing(seat, sup, "pc1", dep)
    with psycopg.connect(url, autocommit=True) as raw:
        _refused(raw, "INSERT INTO handheld_devices(pairing_id, officer_id, deployment_id, token_sha256, label,"
                      f" paired_at, expires_at) VALUES ({open_code.pairing_id}, {pc1}, {dep}, 'forged', '',"
                      " '2026-01-01', '2999-01-01')")  # nobody signed in
        _as(raw, sup.token)
        _refused(raw, "INSERT INTO handheld_devices(pairing_id, officer_id, deployment_id, token_sha256, label,"
                      f" paired_at, expires_at) VALUES ({open_code.pairing_id}, {pc1}, {dep}, 'forged', '',"
                      " '2026-01-01', '2999-01-01')")  # not even a supervisor: only the pairing function
        raw.execute("UPDATE handheld_pairings SET failures = 0, used_at = NULL")
        assert raw.execute("SELECT COUNT(*) FROM handheld_pairings WHERE used_at IS NULL").fetchone()[0] == 1
        _as(raw, ann.token)
        _refused(raw, f"INSERT INTO handheld_pairings(officer_id, deployment_id, code_sha256, created_by, created_at,"
                      f" expires_at) VALUES ({pc1}, {dep}, 'x', {ids['ann']}, '2026-01-01', '2999-01-01')")
        _refused(raw, f"INSERT INTO dispatches(alert_id, deployment_id, decision_id, sent_by, sent_at) SELECT"
                      f" {alert_id}, {dep}, id, {ids['bob']}, '2026-01-01' FROM decisions LIMIT 1")  # in bob's name
        _refused(raw, f"INSERT INTO dispatch_events(dispatch_id, device_id, stage, at) VALUES ({sent.dispatch_id},"
                      f" {phone.device_id}, 'seen', '2026-01-02')")  # an operator is not the phone
        _refused(raw, "INSERT INTO engagements(alert_id, recorded_by, result, action, notes, recorded_at)"
                      f" VALUES ({alert_id}, {pc1}, 'confirmed_false', 'no_further_action', '', '2026-01-02')")
        _as(raw, token)  # the phone's own token is the officer
        assert raw.execute("SELECT orc_actor_role(), orc_actor_id()").fetchone() == ("engagement_officer", pc1)
        _refused(raw, "INSERT INTO engagements(alert_id, recorded_by, result, action, notes, recorded_at)"
                      f" VALUES ({alert_id}, {ids['ann']}, 'confirmed_false', 'no_further_action', '', '2026-01-02')")
    with open_location(url) as seat:
        pairing.revoke(seat, sup, phone.device_id, "lost")
        with pytest.raises(Exception, match="not paired"):
            pairing.device_for(seat, token)
    with psycopg.connect(url, autocommit=True) as raw:
        _as(raw, token)  # a revoked phone's token is nobody
        assert raw.execute("SELECT orc_actor_role()").fetchone() == (None,)
        _as(raw, sup.token)
        _refused(raw, "UPDATE handheld_devices SET revoked_at = NULL")  # never un-revoked, not even by a supervisor
