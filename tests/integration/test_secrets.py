"""Security: a camera's credential is kept with its source (the workers connect with it) and
reaches nothing else - no audit entry, printed line, heartbeat, error or export; nor does the
password of a database URL. Both databases; the commands run in-process, as main.py runs them."""

import http.server
import json
import socket
import threading

import cv2
import numpy as np
import pytest

from console.cli import commands as cli
from console.clock import utcnow
from console.errors import ConsoleError, MediaError, StoreError
from console.feeds.capture import MjpegSource, StreamSource, open_source
from console.services.accounts.auth import actor_for
from console.services.decisions import case_file
from console.services.record import audit_trail, stats
from console.services.setup import deployments
from console.services.setup.demo import DEMO_OPERATOR, DEMO_SUPERVISOR, ensure_demo_deployment
from console.store import audit, open_location, repo
from tests.factories import small_deployment, wait_for

SOURCE = "rtsp://alice:s3cr%40t@10.0.0.5/live"
QUERY_SOURCE = "rtsp://10.0.0.5/live2?password=hunter2&channel=1"
DEAD = "rtsp://alice:s3cr%40t@127.0.0.1:1/live?pwd=hunter2"  # nothing listens on port 1: a dead camera
SECRETS = ("s3cr%40t", "s3cr@t", "s3cr%2540t", "hunter2")


def leaks(text) -> list[str]:
    text = text.decode("latin-1") if isinstance(text, bytes) else str(text)
    return [s for s in SECRETS if s in text]


def where(store) -> list[str]:
    return ["--db", store.url] if store.dialect == "postgres" else ["--data-dir", str(store.path.parent)]


def all_columns(store, table: str) -> str:
    return "\n".join(" ".join(str(r[k]) for k in r.keys()) for r in store.query(f"SELECT * FROM {table}"))


def signed_in(monkeypatch, password: str = "demo") -> list[str]:
    """--user's password, typed as one line on standard input."""
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return ["--password-stdin"]


def test_security_a_cameras_credential_reaches_no_audit_entry_printout_heartbeat_or_export(db, engine, tmp_path,
                                                                                          capfd, monkeypatch):
    from console.services.accounts import worker_access

    dep = ensure_demo_deployment(db, engine)
    sup = actor_for(db, DEMO_SUPERVISOR)
    gate = deployments.add_camera(db, sup, dep, "Gate", SOURCE)
    deployments.add_camera(db, sup, dep, "Gate 2", QUERY_SOURCE)
    dead = deployments.add_camera(db, sup, dep, "Dead door", DEAD)
    # The credential is kept apart from the source (camera_credentials), where the workers read it
    # to connect, and only there.
    from console.services.setup import cameras

    stored = {r["name"]: r for r in repo.cameras(db, dep)}["Gate"]
    assert stored["source"] == "rtsp://10.0.0.5/live" and cameras.connect_string(db, stored) == SOURCE

    logged = all_columns(db, "audit_log")
    assert leaks(logged) == [] and "rtsp://10.0.0.5/live" in logged and "password=***" in logged
    assert audit.verify_chain(db).ok
    shown = deployments.cameras(db, sup, dep)
    assert {c["name"]: c["source"] for c in shown}["Gate"] == "rtsp://10.0.0.5/live" and leaks(shown) == []
    assert {c["source"] for c in deployments.cameras(db, actor_for(db, DEMO_OPERATOR), dep)} == {""}

    capfd.readouterr()
    assert cli.main(["audit", "show", *where(db), "--last", "200", "--user", DEMO_SUPERVISOR,
                     *signed_in(monkeypatch)]) == 0
    out = capfd.readouterr()
    assert "camera.added" in out.out and "rtsp://10.0.0.5/live" in out.out
    assert leaks(out.out + out.err) == []

    # A worker on the dead camera: its printed lines (OpenCV's and FFmpeg's too: capfd reads the
    # file descriptors), its summary and its heartbeats.
    issued = worker_access.issue(db, actor_for(db, "demo.admin"), dep, "test machine")
    monkeypatch.setenv("ORC_WORKER_CREDENTIAL", issued.token)
    assert cli.main(["worker", *where(db), "--deployment", str(dep), "--cameras", str(dead), "--seconds", "2"]) == 0
    out = capfd.readouterr()
    assert json.loads(out.out.strip().splitlines()[-1])["cameras"] == [dead]
    assert leaks(out.out + out.err) == []
    beats = all_columns(db, "worker_heartbeats")
    assert "Dead door" in beats and leaks(beats) == []

    record = tmp_path / "record.json"
    assert cli.main(["report", *where(db), str(dep), "--out", str(record), "--user", DEMO_SUPERVISOR,
                     *signed_in(monkeypatch)]) == 0
    assert leaks(record.read_bytes()) == [] and leaks(capfd.readouterr().out) == []

    entry = db.one("SELECT e.id AS entry_id, i.id AS image_id FROM watchlist_entries e JOIN entry_images i"
                   " ON i.entry_id = e.id ORDER BY e.id LIMIT 1")
    jpeg = cv2.imencode(".jpg", np.full((120, 160, 3), 90, np.uint8))[1].tobytes()
    alert = repo.insert_alert(db, repo.AlertRecord(dep, gate, 1, [(entry["entry_id"], entry["image_id"], 0.9)], 0.4,
                                                   engine.model_id, [10, 10, 40, 40], {}, jpeg, jpeg, utcnow()))
    files = case_file.export_alert(db, sup, alert, tmp_path / "case", engine)
    assert files and all(leaks(f.read_bytes()) == [] for f in files)
    assert leaks(all_columns(db, "audit_log")) == []


def _append_as_before_redaction(store, action: str, subject_type: str, subject_id, details: dict) -> None:
    """An entry written the way the log took details before redaction began: verbatim."""
    details_json = json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    with store.transaction() as conn:
        seq = store.next_audit_seq(conn)
        last = conn.execute("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
        prev, at = (last["hash"] if last else audit.GENESIS), utcnow()
        digest = audit.entry_hash(seq, at, "sup", action, subject_type, str(subject_id), details_json, prev)
        conn.execute("INSERT INTO audit_log(seq, at, actor, action, subject_type, subject_id, details_json, prev_hash,"
                     " hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (seq, at, "sup", action, subject_type, str(subject_id), details_json, prev, digest))


def test_security_an_old_entry_that_holds_a_password_is_shown_without_it(db, capfd, monkeypatch):
    from console.services.accounts import auth

    # The log is append-only: an entry written before redaction keeps its text; every reader masks it.
    _append_as_before_redaction(db, "camera.added", "camera", 9, {"name": "Old gate", "source": SOURCE})
    _append_as_before_redaction(db, "alert.noted", "alert", 5, {"note": f"feed {QUERY_SOURCE} was slow"})
    assert "s3cr%40t" in all_columns(db, "audit_log")  # the premise: the old text is still there
    assert audit.verify_chain(db).ok
    repo.create_user(db, "aud", "Auditor", "auditor")
    repo.create_user(db, "sup", "Supervisor", "supervisor")
    assert leaks(audit_trail.latest(db, actor_for(db, "aud"))) == []
    assert leaks(stats.alert_history(db, actor_for(db, "sup"), 5)) == []
    auth.bootstrap_administrator(db, "chief", "Chief", "violet kettle harbour 42")
    capfd.readouterr()
    assert cli.main(["audit", "show", *where(db), "--user", "chief",
                     *signed_in(monkeypatch, "violet kettle harbour 42")]) == 0
    out = capfd.readouterr()
    assert "Old gate" in out.out and "rtsp://***@10.0.0.5/live" in out.out and leaks(out.out + out.err) == []


def test_security_a_camera_name_that_holds_a_credential_is_refused(db):
    d = small_deployment(db)
    for name in (SOURCE, "Gate alice:s3cr@t@10.0.0.5", "Gate ?password=hunter2"):
        with pytest.raises(ConsoleError, match="refused: a camera's name"):
            repo.add_camera(db, d.deployment_id, name, "demo:0", "sup")
    assert [r["name"] for r in repo.cameras(db, d.deployment_id)] == ["Cam"]


class _Answers401(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        self.send_response(401)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()


def test_security_a_dead_cameras_error_names_its_host_not_its_password(capfd):
    stream = StreamSource(DEAD)
    stream.backoff_start_s = 0.1
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answers401)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    refused = MjpegSource(f"http://alice:s3cr%40t@127.0.0.1:{closed}/video.mjpg?password=hunter2", timeout_s=1.0)
    unauthorised = MjpegSource(f"mjpeg+http://alice:s3cr%40t@127.0.0.1:{server.server_address[1]}/v?token=hunter2",
                               timeout_s=1.0)
    sources = (stream, refused, unauthorised)
    for source in sources:
        source.backoff_start_s = 0.1
        source.start()
    try:
        assert wait_for(lambda: all(s.reconnect_count >= 1 and s.error for s in sources), 15)
        errors = [s.error for s in sources]
    finally:
        for source in sources:
            source.stop()
        server.shutdown()
        server.server_close()
    assert errors[0] == "cannot connect to rtsp://***@127.0.0.1:1/live?pwd=***"
    assert "401" in errors[2] and "127.0.0.1" in errors[2]
    assert leaks(errors) == [] and leaks(capfd.readouterr()) == []
    for spec in ("alice:s3cr@t@10.0.0.5/live", "mjpeg+ftp://alice:s3cr%40t@10.0.0.5/x"):  # mistyped: refused at once
        with pytest.raises(MediaError) as refused_at_once:
            open_source(spec)
        assert leaks(refused_at_once.value) == [] and "10.0.0.5" in str(refused_at_once.value)


@pytest.mark.parametrize("url, secret", [
    ("postgresql://u:pw@127.0.0.1:1/x", "pw"),
    ("postgresql://orc:pgs3cret@127.0.0.1:1/console", "pgs3cret"),
    ("postgresql://orc@127.0.0.1:1/console?password=pgs3cret&sslpassword=keyp4ss", "pgs3cret"),
])
def test_security_an_unreachable_database_is_named_without_its_password(url, secret, capsys):
    with pytest.raises(StoreError) as refused:
        open_location(url)
    said = [str(refused.value), str(refused.value.__cause__ or "")]
    assert all(secret not in text and "keyp4ss" not in text for text in said), said
    assert "127.0.0.1:1" in said[0]
    assert cli.main(["audit", "verify", "--db", url]) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("error: cannot connect to postgresql://") and secret not in err and "keyp4ss" not in err


def test_security_a_db_option_that_is_not_a_url_is_refused_without_being_echoed(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # it must not become a data directory named after the password either
    assert cli.main(["audit", "verify", "--db", "host=127.0.0.1 password=hunter2"]) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert "--db takes a postgresql:// URL" in err and "hunter2" not in err
    assert list(tmp_path.iterdir()) == []
