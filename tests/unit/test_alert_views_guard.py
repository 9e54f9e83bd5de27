"""A further view of an alerted track (alert_views, migration 29): added only to a kept alert, on
PostgreSQL only by whoever may write that alert, then only blanked by retention - never replaced or
deleted. Tried by hand as someone holding the SQLite file, the schema owner's credential, or a seat's
credential with psql would."""

import hashlib

import psycopg
import pytest

from console.store import ledger, open_location, repo
from tests.factories import small_deployment
from tests.unit.test_security_pg_recognition import ONE_BYTE, _inserted_only_under, _recognising
from tests.unit.test_security_pg_seat import (
    _people,
    _refused,
    seat_url,  # noqa: F401 - the fixture, shared
)

VIEW = b"\xff\xd8 a better view of the face"
QUALITY = {"score": 0.8}


def _view(db, alert: int, jpeg: bytes = VIEW) -> int:
    return repo.add_alert_view(db, alert, jpeg, 0.71, QUALITY, "2026-01-01T09:00:01Z")


def test_a_further_view_is_never_replaced_or_deleted_by_hand_only_blanked_refused(db):
    d = small_deployment(db)
    alert = d.alert()
    view = _view(db, alert)
    other = d.alert(track=2)
    for sql, args in (("UPDATE alert_views SET jpeg = ?, sha256 = ? WHERE id = ?",
                       (b"someone else", hashlib.sha256(b"someone else").hexdigest(), view)),
                      ("UPDATE alert_views SET jpeg = ? WHERE id = ?", (b"someone else", view)),
                      ("UPDATE alert_views SET score = ? WHERE id = ?", (0.99, view)),
                      ("UPDATE alert_views SET quality_json = ? WHERE id = ?", ('{"score": 1.0}', view)),
                      ("UPDATE alert_views SET captured_at = ? WHERE id = ?", ("2020-01-01T00:00:00Z", view)),
                      ("UPDATE alert_views SET alert_id = ? WHERE id = ?", (other, view)),
                      ("DELETE FROM alert_views WHERE id = ?", (view,))):
        with pytest.raises(Exception, match="only blanked|never deleted"):
            with db.transaction() as conn:
                conn.execute(sql, args)
    row = db.one("SELECT alert_id, jpeg, sha256, score FROM alert_views WHERE id = ?", (view,))
    assert (row["alert_id"], bytes(row["jpeg"]), row["score"]) == (alert, VIEW, pytest.approx(0.71))
    assert ledger.verify(db) == []
    with db.transaction() as conn:  # retention's blanking is the one change there is
        conn.execute("UPDATE alert_views SET jpeg = NULL WHERE id = ?", (view,))
    row = db.one("SELECT jpeg, sha256 FROM alert_views WHERE id = ?", (view,))
    assert row["jpeg"] is None and row["sha256"] == hashlib.sha256(VIEW).hexdigest()  # the hash stays


def test_a_further_view_is_added_only_to_a_kept_alert_refused(db):
    d = small_deployment(db)
    kept, purged = d.alert(), d.alert(track=2)
    db.conn.execute("UPDATE alerts SET purged_at = ? WHERE id = ?", ("2026-02-01T00:00:00Z", purged))
    with pytest.raises(Exception, match="only to a kept alert"):
        _view(db, purged)  # a view made late never brings back a purged alert's images
    with pytest.raises(Exception, match="only to a kept alert"):
        _view(db, 999)
    assert _view(db, kept) and [r["alert_id"] for r in db.query("SELECT alert_id FROM alert_views")] == [kept]


def test_a_further_view_put_in_by_hand_is_named_by_verify(db):
    d = small_deployment(db)
    alert = d.alert()
    _view(db, alert)
    assert ledger.verify(db) == []
    with db.transaction() as conn:  # past the console: no audit entry
        conn.execute("INSERT INTO alert_views(alert_id, captured_at, jpeg, sha256, score, quality_json)"
                     " VALUES (?,?,?,?,?,?)", (alert, "2026-01-01T09:00:02Z", VIEW, hashlib.sha256(VIEW).hexdigest(),
                                               0.9, "{}"))
    problems = ledger.verify(db)
    assert len(problems) == 1 and "alert_views" in problems[0]


def test_security_a_further_view_comes_only_from_whoever_may_write_its_alert_refused(seat_url):  # noqa: F811
    """Before migration 29 a seat's credential with no session added a "further view" to any alert."""
    url, owner_url = seat_url
    _people(owner_url)
    with open_location(url) as seat:
        live, camera, alert = _recognising(seat)  # the camera's store: what its recogniser writes views through
        first = _view(camera, alert)  # the console's own path
        nobody = seat.reopen()  # a connection under no session: what psql with the credential is
        with pytest.raises(Exception, match="row-level security"):
            _view(nobody, alert, b"a view by psql")
        nobody.close()
        token = camera.bound_session
    with open_location(owner_url) as owner:  # the server checks the hash, even for the schema's owner
        with pytest.raises(Exception, match="check constraint"):
            with owner.transaction() as conn:
                conn.execute("INSERT INTO alert_views(alert_id, captured_at, jpeg, sha256, score, quality_json)"
                             " VALUES (?,?,?,?,?,?)", (alert, "2026-01-01T09:00:02Z", VIEW, "0" * 64, 0.7, "{}"))
    insert = ("INSERT INTO alert_views(alert_id, captured_at, jpeg, sha256, score, quality_json)"
              f" VALUES ({alert}, 'now', {ONE_BYTE}, 0.9, '{{}}')")
    with psycopg.connect(url, autocommit=True) as raw:
        _inserted_only_under(raw, token, insert)
        new_hash = "encode(sha256('\\x01'::bytea), 'hex')"
        _refused(raw, f"UPDATE alert_views SET jpeg = '\\x01'::bytea, sha256 = {new_hash} WHERE id = {first}")
        _refused(raw, f"UPDATE alert_views SET score = 0.99 WHERE id = {first}")
        _refused(raw, f"DELETE FROM alert_views WHERE id = {first}")
        raw.execute(f"UPDATE alert_views SET jpeg = NULL WHERE id = {first}")  # retention's blanking
    with open_location(owner_url) as owner:
        rows = owner.query("SELECT id, jpeg FROM alert_views ORDER BY id")
        assert [r["id"] for r in rows][0] == first and len(rows) == 2 and rows[0]["jpeg"] is None
    live.stop()
    camera.close()
