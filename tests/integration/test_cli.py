"""The headless commands, run as a user runs them: a subprocess of main.py."""

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import wait_for

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"


def run(*args, timeout=300, password=None, env=None):
    """main.py with these arguments; ``password`` is typed on standard input (--password-stdin)."""
    extra = ["--password-stdin"] if password is not None else []
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args), *extra], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT, input=None if password is None else password + "\n",
                          env=env)


@pytest.fixture(scope="module")
def selftest_dir(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("selftest")
    result = run("selftest", "--data-dir", data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    return data_dir, result.stdout


def test_selftest_runs_the_pipeline_and_says_what_it_did(selftest_dir):
    data_dir, out = selftest_dir
    assert "selftest passed" in out
    assert "audit chain intact" in out
    assert (data_dir / "console.sqlite3").is_file()
    db = sqlite3.connect(data_dir / "console.sqlite3")
    try:
        alerts = db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0]
        decided = db.execute("SELECT COUNT(DISTINCT alert_id) FROM decisions").fetchone()[0]
        subjects = db.execute("SELECT COUNT(DISTINCT a.entry_id) FROM alerts a JOIN decisions d ON d.alert_id = a.id"
                              " WHERE d.decision = 'true_alert'").fetchone()[0]
        faces = db.execute("SELECT SUM(faces_analysed) FROM face_stats").fetchone()[0]
    finally:
        db.close()
    assert alerts >= 2 and decided == alerts and subjects == 2
    assert faces > alerts


def test_audit_verify_passes_then_names_the_tampered_entry(selftest_dir, tmp_path):
    data_dir, _ = selftest_dir
    ok = run("audit", "verify", "--data-dir", data_dir)
    assert ok.returncode == 0 and "intact" in ok.stdout
    copy = tmp_path / "copy"
    copy.mkdir()
    src = sqlite3.connect(data_dir / "console.sqlite3")
    dst = sqlite3.connect(copy / "console.sqlite3")
    src.backup(dst)
    src.close()
    dst.execute("DROP TRIGGER audit_log_no_update")
    dst.execute("UPDATE audit_log SET actor = 'nobody' WHERE seq = 4")
    dst.commit()
    dst.close()
    bad = run("audit", "verify", "--data-dir", copy)
    assert bad.returncode == 1
    assert "BROKEN at entry 4" in bad.stdout


def test_eval_pairs_prints_accuracy_last(tmp_path):
    result = run("eval-pairs", DATA / "pairs.csv", DATA)
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    fields = dict(kv.split("=") for kv in last.split())
    assert set(fields) == {"accuracy", "threshold", "pairs"}
    assert fields["pairs"] == "6" and float(fields["accuracy"]) == 1.0


@pytest.mark.parametrize("args, message", [
    (("eval-pairs", "no-such.csv", DATA), "does not exist"),
    (("eval-pairs", DATA / "SOURCE.md", DATA), "needs the columns"),
    (("eval-pairs", DATA / "pairs.csv", ROOT / "tests"), "missing or not a readable image"),
])
def test_bad_input_gets_one_clear_line_and_a_non_zero_status(args, message):
    result = run(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]


def test_every_command_has_help():
    for command in ("selftest", "eval-pairs", "audit", "models", "screenshot"):
        result = run(command, "--help")
        assert result.returncode == 0 and "--data-dir" in result.stdout


def test_models_verify():
    result = run("models", "verify")
    assert result.returncode == 0 and "verified" in result.stdout


def test_a_changed_decision_row_is_caught_by_audit_verify(selftest_dir, tmp_path):
    data_dir, _ = selftest_dir
    copy = tmp_path / "changed"
    copy.mkdir()
    src = sqlite3.connect(data_dir / "console.sqlite3")
    dst = sqlite3.connect(copy / "console.sqlite3")
    src.backup(dst)
    src.close()
    dst.execute("DROP TRIGGER decisions_no_update")  # what someone editing the file by hand would do
    dst.execute("UPDATE decisions SET decision = 'false_alert', reason = 'edited' WHERE id = 1")
    dst.commit()
    dst.close()
    bad = run("audit", "verify", "--data-dir", copy)
    assert bad.returncode == 1
    assert "audit chain intact" in bad.stdout  # the log itself was not touched...
    assert "decision 1 was changed after it was recorded" in bad.stdout  # ...but the row no longer matches it


def test_first_administrator_is_created_once_with_a_real_password(tmp_path):
    def bootstrap(password):
        return subprocess.run([sys.executable, str(ROOT / "main.py"), "users", "bootstrap", "--password-stdin",
                               "--data-dir", str(tmp_path)], input=password + "\n", capture_output=True, text=True,
                              timeout=120, cwd=ROOT)

    short = bootstrap("short")
    assert short.returncode == 2 and "at least 12 characters" in short.stderr
    ok = bootstrap("a properly long password")
    assert ok.returncode == 0 and "administrator admin created" in ok.stdout
    again = bootstrap("another long password")
    assert again.returncode == 2 and "already exists" in again.stderr
    listed = run("users", "list", "--data-dir", tmp_path, "--user", "admin", password="a properly long password")
    assert "admin" in listed.stdout and "administrator" in listed.stdout
    purge = run("purge", "--data-dir", tmp_path, "--user", "admin", password="a properly long password")
    assert purge.returncode == 0 and purge.stdout.startswith("purged images of 0 alerts")


@pytest.mark.parametrize("command", [("users", "list"), ("purge",), ("audit", "show"),
                                     ("report", "--last", "--out", "r.json")])
def test_security_a_command_that_reads_or_changes_records_without_sign_in_is_refused(tmp_path, command):
    bootstrap = subprocess.run([sys.executable, str(ROOT / "main.py"), "users", "bootstrap", "--password-stdin",
                                "--data-dir", str(tmp_path)], input="a properly long password\n",
                               capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert bootstrap.returncode == 0, bootstrap.stderr
    bare = run(*command, "--data-dir", tmp_path)
    assert bare.returncode == 2 and "sign in with --user" in bare.stderr
    wrong = run(*command, "--data-dir", tmp_path, "--user", "admin", password="not the password at all")
    assert wrong.returncode == 2 and "wrong user name or password" in wrong.stderr
    db = sqlite3.connect(tmp_path / "console.sqlite3")
    try:
        failed = db.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'login.failed'").fetchone()[0]
    finally:
        db.close()
    assert failed == 1


def test_cli_account_commands_sign_in_first_and_refused_without_the_password(tmp_path):
    """users create/passwd/disable/enable/delete: an administrator signs in for each; a password is
    changed only with the current one; answers never say which part of a sign-in was wrong."""
    def users(*args, stdin=""):
        return subprocess.run([sys.executable, str(ROOT / "main.py"), "users", *args, "--password-stdin",
                               "--data-dir", str(tmp_path)], input=stdin, capture_output=True, text=True,
                              timeout=120, cwd=ROOT)

    admin_pw, pw = "a properly long password", "violet kettle harbour"
    assert users("bootstrap", stdin=admin_pw + "\n").returncode == 0
    made = users("create", "ann", "--role", "supervisor", "--as", "admin", stdin=f"{admin_pw}\n{pw}\n")
    assert made.returncode == 0 and "ann created by admin" in made.stdout, made.stderr
    wrong = users("passwd", "ann", stdin="not her password\nan amber lighthouse\n")
    assert wrong.returncode == 2 and "sign-in refused" in wrong.stderr
    assert users("passwd", "ann", stdin=f"{pw}\nan amber lighthouse\n").returncode == 0
    as_ann = users("disable", "admin", "--as", "ann", stdin="an amber lighthouse\n")
    assert as_ann.returncode == 2 and "may not manage users" in as_ann.stderr
    impostor = users("delete", "ann", "--as", "admin", stdin="a guessed password\n")
    assert impostor.returncode == 2 and "sign-in refused" in impostor.stderr
    for action in ("disable", "enable", "delete"):
        done = users(action, "ann", "--as", "admin", stdin=admin_pw + "\n")
        assert done.returncode == 0, done.stderr
    listed = run("users", "list", "--data-dir", tmp_path, "--user", "admin", password=admin_pw)
    assert "ann" in listed.stdout and "deleted" in listed.stdout
    no_tty = subprocess.run([sys.executable, str(ROOT / "main.py"), "users", "delete", "admin", "--as", "admin",
                             "--data-dir", str(tmp_path)], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=120, cwd=ROOT)
    assert no_tty.returncode == 2 and "--password-stdin" in no_tty.stderr


def test_report_writes_a_record_that_matches_the_database(selftest_dir, tmp_path):
    data_dir, _ = selftest_dir
    out = tmp_path / "record.pdf"
    result = run("report", "--last", "--out", out, "--data-dir", data_dir, "--user", "demo.supervisor", password="demo")
    assert result.returncode == 0, result.stderr
    db = sqlite3.connect(data_dir / "console.sqlite3")
    try:
        alerts = db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0]
        faces = db.execute("SELECT SUM(faces_analysed) FROM face_stats").fetchone()[0]
    finally:
        db.close()
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and b"Qt " in data  # drawn by Qt's QPdfWriter (ui/record_pdf.py), via main.py
    assert f"; {alerts} alerts)" in result.stdout and f" {faces} faces analysed" in result.stdout
    as_json = tmp_path / "record.json"
    result = run("report", "--last", "--out", as_json, "--data-dir", data_dir, "--user", "demo.supervisor",
                 password="demo")
    record = json.loads(as_json.read_text())
    assert (record["alerts"], record["faces_analysed"]) == (alerts, faces)
    bad = run("report", "--last", "--out", tmp_path / "record.txt", "--data-dir", data_dir, "--user", "demo.supervisor",
              password="demo")
    assert bad.returncode == 2 and "use a file name ending in .pdf, .csv or .json" in bad.stderr


def worker_credential(data_dir, deployment=1) -> dict:
    """A credential for a headless worker, issued as an administrator issues one (the demo's admin)."""
    issued = run("users", "issue-worker", "--data-dir", data_dir, "--deployment", deployment, "--label", "test box",
                 "--user", "demo.admin", password="demo")
    assert issued.returncode == 0, issued.stderr
    return {**os.environ, "ORC_WORKER_CREDENTIAL": issued.stdout.strip().splitlines()[-1]}


def run_worker_until(args, ready, tmp_path, timeout=240, env=None):
    """``main.py worker`` without --seconds (it would run to the window's end), stopped as an
    operator stops it (SIGTERM) once ``ready()`` says it has done enough - however long that takes
    on a loaded machine. Returns the exit status, the summary it printed and its stderr."""
    out, err = tmp_path / "worker.out", tmp_path / "worker.err"
    with open(out, "w") as stdout, open(err, "w") as stderr:
        proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "worker", *map(str, args)], stdout=stdout,
                                stderr=stderr, cwd=ROOT, env=env)
        try:
            reached = wait_for(lambda: proc.poll() is not None or ready(), timeout=timeout)
            assert proc.poll() is None, f"the worker stopped by itself: {err.read_text()[-2000:]}"
            assert reached, f"the worker did not get there in {timeout} s: {err.read_text()[-2000:]}"
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    lines = out.read_text().strip().splitlines()
    return code, json.loads(lines[-1]) if lines else {}, err.read_text()


def _reported(row) -> dict:
    """What a worker's last heartbeat says of camera 1 (empty before its first)."""
    return json.loads(row[0]).get("1", {}) if row else {}


def test_a_headless_worker_writes_alerts_and_reports_in(tmp_path):
    data = tmp_path / "shared"
    assert run("selftest", "--data-dir", data).returncode == 0  # a demo deployment with one camera
    db = sqlite3.connect(data / "console.sqlite3")
    before = db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0]
    db.close()

    def ready() -> bool:
        con = sqlite3.connect(data / "console.sqlite3", timeout=10)
        try:
            alerts = con.execute("SELECT COUNT(*) FROM alerts").fetchone()[0]
            beat = con.execute("SELECT cameras_json FROM worker_heartbeats WHERE state = 'running'").fetchone()
        finally:
            con.close()
        return alerts > before and _reported(beat).get("analysed", 0) >= 200

    env = worker_credential(data)
    code, summary, err = run_worker_until(("--data-dir", data, "--deployment", "1"), ready, tmp_path, env=env)
    assert code == 0, err
    assert summary["frames_analysed"] >= 200 and summary["alerts"] >= 1
    db = sqlite3.connect(data / "console.sqlite3")
    try:
        assert db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == before + summary["alerts"]
        state, cameras = db.execute("SELECT state, cameras_json FROM worker_heartbeats").fetchone()
    finally:
        db.close()
    # Its last report holds its final counts; then it marks itself gone (it was neither stopped nor ended).
    assert state == "gone" and json.loads(cameras)["1"]["analysed"] == summary["frames_analysed"]
    bad = run("worker", "--data-dir", data, "--deployment", "7", env=env)
    assert bad.returncode == 2 and "deployment 7 does not exist" in bad.stderr
    bad = run("worker", "--data-dir", data, "--deployment", "1", "--cameras", "9", env=env)
    assert bad.returncode == 2 and "no camera [9]" in bad.stderr
    # refused: no credential, a credential file others can read, a revoked credential
    bare = run("worker", "--data-dir", data, "--deployment", "1", "--seconds", "1")
    assert bare.returncode == 2 and "a worker needs its credential" in bare.stderr
    loose = tmp_path / "credential"
    loose.write_text(env["ORC_WORKER_CREDENTIAL"])
    loose.chmod(0o644)
    shown = run("worker", "--data-dir", data, "--deployment", "1", "--credential-file", loose, "--seconds", "1")
    assert shown.returncode == 2 and "can be read by others" in shown.stderr
    revoked = run("users", "revoke-worker", "--data-dir", data, "--credential-id", "1", "--reason", "box stolen",
                  "--user", "demo.admin", password="demo")
    assert revoked.returncode == 0, revoked.stderr
    loose.chmod(0o600)
    refused = run("worker", "--data-dir", data, "--deployment", "1", "--credential-file", loose, "--seconds", "1")
    assert refused.returncode == 2 and "worker credential refused: revoked" in refused.stderr


def test_a_worker_split_over_processes_runs_each_camera_once_and_stops_as_one(tmp_path):
    from console.cli.worker import camera_groups
    from console.store import open_store, repo

    assert camera_groups([1, 2, 3, 4, 5], 2) == [[1, 3, 5], [2, 4]]
    assert camera_groups([7], 4) == [[7]]  # never more processes than cameras
    data = tmp_path / "shared"
    assert run("selftest", "--data-dir", data).returncode == 0  # a demo deployment with one camera
    store = open_store(data)
    try:
        repo.add_camera(store, 1, "Demo camera 2", "demo:1", "demo.supervisor")
    finally:
        store.close()

    def running() -> dict:
        con = sqlite3.connect(data / "console.sqlite3", timeout=10)
        try:
            rows = con.execute("SELECT worker_id, cameras_json FROM worker_heartbeats WHERE state = 'running'").fetchall()
        finally:
            con.close()
        return {worker: json.loads(cameras) for worker, cameras in rows}

    def ready() -> bool:
        now = running()
        return len(now) == 2 and all(c.get("analysed", 0) >= 25 for cams in now.values() for c in cams.values())

    env = worker_credential(data)
    token = env["ORC_WORKER_CREDENTIAL"]
    seen: dict = {}
    command_lines: list[bytes] = []

    def check() -> bool:
        if not ready():
            return False
        seen.update(running())
        # The children's command lines (readable by every local user) never hold the credential.
        started = (tmp_path / "worker.err").read_text()
        for pid in re.search(r"worker processes \(([\d, ]+)\)", started).group(1).split(", "):
            command_lines.append(Path(f"/proc/{pid}/cmdline").read_bytes())
        return True

    code, _, err = run_worker_until(("--data-dir", data, "--deployment", "1", "--processes", "2"), check, tmp_path,
                                    env=env)
    assert code == 0, err
    assert len(command_lines) == 2 and all(b"--cameras" in c and token.encode() not in c for c in command_lines)
    assert "cameras [1, 2] in 2 worker processes" in err
    assert sorted(sorted(cams) for cams in seen.values()) == [["1"], ["2"]]  # each camera in one process only
    db = sqlite3.connect(data / "console.sqlite3")
    try:
        states = [r[0] for r in db.execute("SELECT state FROM worker_heartbeats")]
    finally:
        db.close()
    assert states == ["gone", "gone"]  # the stop reached both, and each marked itself gone


def test_a_worker_runs_against_postgresql(tmp_path):
    import uuid

    import psycopg

    base = os.environ.get("ORC_TEST_PG_URL", "")
    if not base:
        if os.environ.get("CI"):
            pytest.fail("CI must run the worker on PostgreSQL too: ORC_TEST_PG_URL is not set")
        pytest.skip("no PostgreSQL server (ORC_TEST_PG_URL)")
    name = f"orc_worker_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    url = base.rsplit("/", 1)[0] + "/" + name
    try:
        from console.services.accounts import worker_access
        from console.services.accounts.auth import actor_for
        from console.services.setup.demo import ensure_demo_deployment
        from console.store import open_location as open_store_url
        from console.store.audit import verify_chain
        from console.vision.engine import load_engine

        with open_store_url(url) as store:
            dep = ensure_demo_deployment(store, load_engine())
            token = worker_access.issue(store, actor_for(store, "demo.admin"), dep, "pg box").token
        with open_store_url(url) as watcher:
            def ready() -> bool:
                beat = watcher.one("SELECT cameras_json FROM worker_heartbeats WHERE state = 'running'")
                return _reported((beat["cameras_json"],) if beat else None).get("analysed", 0) >= 100

            code, summary, err = run_worker_until(("--db", url, "--deployment", dep), ready, tmp_path,
                                                  env={**os.environ, "ORC_WORKER_CREDENTIAL": token})
        assert code == 0, err
        assert summary["frames_analysed"] >= 100
        with open_store_url(url) as store:
            last = store.one("SELECT state, cameras_json FROM worker_heartbeats")
            assert last["state"] == "gone"
            assert json.loads(last["cameras_json"])["1"]["analysed"] == summary["frames_analysed"]
            assert verify_chain(store).ok
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
