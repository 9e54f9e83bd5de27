"""Issue 32, the door migration 26 left open: with a seat's credential and no session, psql inserted
an alert for any running deployment's camera. Since migration 27 recognition writes under a token of
its own (console/store/pg_recognition.py): tried here through the console's own path, a seat's
LiveDeployment, as a seat role on a real PostgreSQL server."""

from __future__ import annotations

from dataclasses import replace

import psycopg
import pytest

from console.services.accounts import auth
from console.services.runtime import recognition
from console.services.runtime.live import LiveDeployment
from console.store import open_location, repo
from tests.unit.recognizer_fakes import FakeEngine
from tests.unit.test_security_pg_seat import (
    PASSWORD,
    _as,
    _people,
    _refused,
    seat_url,  # noqa: F401 - the fixture, shared
)


def _record(seat) -> repo.AlertRecord:
    row = seat.one("SELECT d.id AS dep, c.id AS cam, e.id AS entry, i.id AS image FROM deployments d"
                   " JOIN cameras c ON c.deployment_id = d.id JOIN watchlists w ON w.deployment_id = d.id"
                   " JOIN watchlist_entries e ON e.watchlist_id = w.id JOIN entry_images i ON i.entry_id = e.id")
    return repo.AlertRecord(row["dep"], row["cam"], 7, [(row["entry"], row["image"], 0.7)], 0.4, "m", [0, 0, 1, 1],
                            {}, b"p", b"c", "2026-01-01T09:00:00Z")


# A one-byte image and its SHA-256, as SQL (a row whose hash is its own).
ONE_BYTE = "'\\x00'::bytea, encode(sha256('\\x00'::bytea), 'hex')"


def _inserted_only_under(raw, token: str, insert: str) -> None:
    """The INSERT is refused to the seat's credential alone and under a made-up token, and taken
    under ``token`` (its deployment's recognition); ``raw`` stays under that token."""
    _refused(raw, insert)  # the seat's credential alone
    _as(raw, "orcr1." + "0" * 64)  # a made-up token
    _refused(raw, insert)
    _as(raw, token)
    raw.execute(insert)


def _recognising(seat):
    """As a signed-in seat: its deployment recognising, and an alert stored at once by a camera's store
    (no context frame yet). Returns (live, camera store, alert id)."""
    record = replace(_record(seat), context_jpeg=b"")
    ann = auth.login(seat, "ann", PASSWORD)
    repo.bind_session(seat, ann.token)
    live = LiveDeployment(seat, FakeEngine(), record.deployment_id, ann)
    camera = live._camera_store()  # what add_camera gives each camera
    return live, camera, repo.insert_alert(camera, record)


def test_security_a_seats_cameras_write_alerts_under_its_recognition_token_and_nobody_else_does_refused(
        seat_url):  # noqa: F811
    url, owner_url = seat_url
    _people(owner_url)
    with open_location(url) as seat:
        record = _record(seat)
        nobody = seat.reopen()  # a connection under no session: what psql with the credential is
        with pytest.raises(Exception, match="row-level security"):
            repo.insert_alert(nobody, record)
        ann = auth.login(seat, "ann", PASSWORD)
        repo.bind_session(seat, ann.token)  # as Actor.require does at every door
        live = LiveDeployment(seat, FakeEngine(), record.deployment_id, ann)
        other_seat = LiveDeployment(seat, FakeEngine(), record.deployment_id, ann)  # a second seat's own token
        beside = other_seat._camera_store()
        camera = live._camera_store()  # what add_camera gives each camera
        spare = live._camera_store()
        token = camera.bound_session
        assert token.startswith("orcr1.") and spare.bound_session == token  # one token per deployment here
        first = repo.insert_alert(camera, record)
        write, close, attach = recognition._own_writer(camera, None)  # the alert pool's own connection
        second = write(record)
        unframed = write(replace(record, track_id=8, context_jpeg=b""))  # stored at once, its frame after it
        with pytest.raises(Exception, match="row-level security"):
            repo.add_alert_context(nobody, unframed, b"a frame by psql")
        attach(unframed, b"the blurred frame")
        close()
        assert {first, second, unframed} <= {r["id"] for r in seat.query("SELECT id FROM alerts")}
        assert repo.context_of(seat, unframed) == b"the blurred frame"
        auth.logout(seat, ann)  # the operator signs out: recognition goes on
        assert repo.insert_alert(spare, record)
        live.stop()  # the seat closes: its token is ended, and writes nothing more
        with pytest.raises(Exception, match="row-level security"):
            repo.insert_alert(spare, record)
        assert repo.insert_alert(beside, record)  # the other seat's token is not ended with it
        other_seat.stop()
        beside.close()
        spare.close()
        nobody.close()
    with psycopg.connect(url, autocommit=True) as raw:
        _as(raw, token)
        assert raw.execute("SELECT orc_recognition_deployment()").fetchone()[0] is None
        _refused(raw, "SELECT * FROM orc_recognition")
        _refused(raw, "UPDATE orc_recognition SET ended_at = NULL")
        _refused(raw, "INSERT INTO orc_recognition(token_sha256, deployment_id) VALUES ('x', 1)")


def test_security_a_frame_after_its_alert_comes_only_from_its_deployments_recognition_and_matches_its_hash_refused(
        seat_url):  # noqa: F811
    """The context frame stored after an alert (migration 28): a seat's credential under no session, or
    under a token that is not a live recognition token, adds none; once added it is only blanked; a
    frame whose hash is not its own is refused even to the schema's owner (the server checks it)."""
    url, owner_url = seat_url
    _people(owner_url)
    with open_location(url) as seat:
        live, camera, alert = _recognising(seat)
        token = camera.bound_session
    with open_location(owner_url) as owner:
        with pytest.raises(Exception, match="check constraint"):
            with owner.transaction() as conn:
                conn.execute("INSERT INTO alert_contexts(alert_id, jpeg, sha256, stored_at) VALUES (?,?,?,?)",
                             (alert, b"a frame", "0" * 64, "2026-01-01T09:00:01Z"))
    insert = f"INSERT INTO alert_contexts(alert_id, jpeg, sha256, stored_at) VALUES ({alert}, {ONE_BYTE}, 'now')"
    with psycopg.connect(url, autocommit=True) as raw:
        _inserted_only_under(raw, token, insert)
        _refused(raw, f"UPDATE alert_contexts SET jpeg = '\\x01'::bytea WHERE alert_id = {alert}")
        _refused(raw, f"DELETE FROM alert_contexts WHERE alert_id = {alert}")
        raw.execute(f"UPDATE alert_contexts SET jpeg = NULL WHERE alert_id = {alert}")  # retention's blanking
    live.stop()
    camera.close()


def test_a_token_dies_with_its_deployments_end(seat_url):  # noqa: F811
    url, owner_url = seat_url
    _people(owner_url)
    with open_location(url) as seat:
        record = _record(seat)
        ann = auth.login(seat, "ann", PASSWORD)
        repo.bind_session(seat, ann.token)
        live = LiveDeployment(seat, FakeEngine(), record.deployment_id, ann)
        camera = live._camera_store()
        assert repo.insert_alert(camera, record)
    with open_location(owner_url) as owner:
        with owner.transaction() as conn:
            conn.execute("UPDATE deployments SET state = 'ended' WHERE id = ?", (record.deployment_id,))
    with psycopg.connect(url, autocommit=True) as raw:
        _as(raw, camera.bound_session)
        assert raw.execute("SELECT orc_recognition_deployment()").fetchone()[0] is None
        _as(raw, ann.token)
        _refused(raw, f"SELECT orc_open_recognition({record.deployment_id})")  # none for an ended deployment
    camera.close()
