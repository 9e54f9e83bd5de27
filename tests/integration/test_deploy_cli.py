"""`main.py deploy ...`: a deployment set up from the command line, as a signed-in supervisor."""

import io
import sys
from datetime import timedelta

from console import clock
from console.cli import commands as cli
from console.feeds.demo import write_demo_video
from console.feeds.demo_media import demo_subjects
from console.services.accounts import auth
from console.store import open_store

PASSWORD = "violet kettle harbour"


def iso(t):
    return t.isoformat(timespec="seconds").replace("+00:00", "Z")


def deploy(monkeypatch, capsys, data, *args, stdin=PASSWORD):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin + "\n"))
    code = cli.main(["deploy", *map(str, args), "--data-dir", str(data), "--user", "sup", "--password-stdin"])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_deployment_set_up_end_to_end_from_the_cli(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    store = open_store(data)
    monkeypatch.setattr(auth, "SCRYPT_N", 2**11)
    admin = auth.bootstrap_administrator(store, "chief", "Chief", "amber lantern over the quay")
    auth.create_user(store, admin, "sup", "Sup", "supervisor", PASSWORD)
    store.close()
    now = clock.now()
    code, out, err = deploy(monkeypatch, capsys, data, "create", "--name", "Op Market", "--location", "Market Sq",
                            "--rationale", "robberies", "--legal-basis", "common law", "--dpia", "DPIA-7",
                            "--policy", "LFR-3", "--starts", iso(now - timedelta(minutes=5)),
                            "--ends", iso(now + timedelta(hours=6)))
    assert code == 0, err
    dep = int(out.split()[1])
    video = tmp_path / "gate.mp4"
    write_demo_video(video, 0, seconds=1.0, size=(320, 180))
    code, out, err = deploy(monkeypatch, capsys, data, "camera-add", dep, "--name", "Gate", "--source", str(video))
    assert code == 0, err
    cam = int(out.split()[1])
    code, out, err = deploy(monkeypatch, capsys, data, "camera-test", cam, "--out", tmp_path / "frame.png")
    assert code == 0 and "320x180" in out and (tmp_path / "frame.png").stat().st_size > 0, err
    code, out, err = deploy(monkeypatch, capsys, data, "camera-add", dep, "--name", "North", "--source",
                            "rtsp://10.0.0.5/live", "--camera-user", "viewer", stdin=PASSWORD + "\ns3cret")
    assert code == 0, err
    subject = demo_subjects()[0]
    fields = ["--record-number", "R-1", "--subject-name", "Subject A", "--category", "wanted_by_courts",
              "--legal-basis", "warrant", "--reason", "arrest warrant", "--image-source", "custody",
              "--image-date", "2024-01-01", "--review-date", "2099-01-01"]
    code, out, err = deploy(monkeypatch, capsys, data, "entry-add", dep, *fields, "--photo", subject.photo)
    assert code == 0 and "photo" in out, err
    entry = int(out.strip().splitlines()[-1].split()[1])
    code, out, err = deploy(monkeypatch, capsys, data, "authorise", dep)
    assert code != 0 and "checklist is not complete" in err
    code, out, err = deploy(monkeypatch, capsys, data, "checklist", dep, "--tick", "signage", "--tick",
                            "watchlist_reviewed", "--tick", "dpia_current")
    assert code == 0 and "OPEN" not in out, err
    code, out, err = deploy(monkeypatch, capsys, data, "authorise", dep)
    assert code == 0 and "frozen as" in out, err
    code, out, err = deploy(monkeypatch, capsys, data, "entry-edit", entry, "--review-date", "2098-01-01")
    assert code != 0 and "frozen" in err
    code, out, err = deploy(monkeypatch, capsys, data, "entry-remove", entry, "--remove-reason", "arrested",
                            "--amendment", "arrested this morning")
    assert code == 0, err
    store = open_store(data)
    try:
        log = " ".join(r["details_json"] for r in store.query("SELECT details_json FROM audit_log"))
        assert "s3cret" not in log
        assert store.one("SELECT removed_at FROM watchlist_entries WHERE id = ?", (entry,))["removed_at"]
        assert store.one("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'deployment.watchlist_amended'")["n"] == 1
    finally:
        store.close()


def test_webhook_and_jsonl_targets_are_set_from_the_cli_by_an_administrator_only(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    store = open_store(data)
    monkeypatch.setattr(auth, "SCRYPT_N", 2**11)
    admin = auth.bootstrap_administrator(store, "chief", "Chief", "amber lantern over the quay")
    auth.create_user(store, admin, "sup", "Sup", "supervisor", PASSWORD)
    store.close()
    now = clock.now()
    code, out, err = deploy(monkeypatch, capsys, data, "create", "--name", "Op Quay", "--location", "Quay",
                            "--rationale", "thefts", "--legal-basis", "common law", "--dpia", "DPIA-8",
                            "--policy", "LFR-3", "--starts", iso(now), "--ends", iso(now + timedelta(hours=2)))
    assert code == 0, err
    dep = int(out.split()[1])
    code, out, err = deploy(monkeypatch, capsys, data, "outbound", dep, "--webhook", "https://dispatch.example/in")
    assert code != 0 and "manage outbound" in err  # a supervisor may not send alerts anywhere
    monkeypatch.setattr(sys, "stdin", io.StringIO("amber lantern over the quay\n"))
    code = cli.main(["deploy", "outbound", str(dep), "--webhook", "http://dispatch.example/in", "--data-dir", str(data),
                     "--user", "chief", "--password-stdin"])
    assert code != 0 and "https" in capsys.readouterr().err  # plain http only to this machine
    monkeypatch.setattr(sys, "stdin", io.StringIO("amber lantern over the quay\n"))
    lines = tmp_path / "confirmed.jsonl"
    code = cli.main(["deploy", "outbound", str(dep), "--webhook", "https://user:pw@dispatch.example/in",
                     "--jsonl", str(lines), "--new-secret", "--data-dir", str(data), "--user", "chief",
                     "--password-stdin"])
    out = capsys.readouterr().out
    assert code == 0 and "dispatch.example/in" in out and "pw" not in out and "signed=True" in out
    assert str(lines) in out
