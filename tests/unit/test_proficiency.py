"""Loading a proficiency set (issue 29 item 1) with the real models and real photos: the folder and
truth CSV are checked like a watchlist folder, a refused set stores nothing and names the bad rows,
and a good one holds mated and non-mated pairs, logged with their rows."""

from __future__ import annotations

import io
import json
import shutil
import sys

import cv2
import numpy as np
import pytest

from console.errors import PermissionDenied
from console.feeds.demo_media import _package_file
from console.services.accounts.auth import actor_for
from console.services.accuracy import proficiency
from console.store import ledger, repo
from tests.conftest import DATA
from tests.factories import SUPERVISOR_PASSWORD, password_hash

# img16/img17 show one person, img20/img21 another (tests/data/SOURCE.md); the astronaut a third.
TRUTH = "photo,person\nimg16.jpg,P-001\nimg17.jpg,P-001\nimg20.jpg,P-002\nimg21.jpg,P-002\nastronaut.png,P-003\n"


@pytest.fixture
def folder(tmp_path):
    out = tmp_path / "set"
    out.mkdir()
    for name in ("img16.jpg", "img17.jpg", "img20.jpg", "img21.jpg"):
        shutil.copy(DATA / name, out / name)
    shutil.copy(_package_file("skimage", "data", "astronaut.png"), out / "astronaut.png")
    (out / "truth.csv").write_text(TRUTH, encoding="utf-8")
    return out


@pytest.fixture
def people(store):
    repo.create_user(store, "sup", "Supervisor", "supervisor", password_hash=password_hash())
    repo.create_user(store, "op", "Operator", "operator")
    return actor_for(store, "sup"), actor_for(store, "op")


def _stored(store) -> tuple[int, int, int]:
    return (store.one("SELECT COUNT(*) AS n FROM proficiency_sets")["n"],
            store.one("SELECT COUNT(*) AS n FROM proficiency_items")["n"],
            store.one("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'known_answer.set_loaded'")["n"])


def test_a_good_set_holds_mated_and_non_mated_pairs_logged_with_their_rows(store, engine, people, folder):
    sup, _ = people
    counts = proficiency.load_set(store, engine, sup, folder, folder / "truth.csv", "force set 1")
    assert counts["mated"] == 4 and counts["non_mated"] == 4  # one mated pair per probe with a mate; balanced
    assert counts["hard"] >= 1 and counts["refused_photos"] == 0 and counts["people"] == 3
    items = store.query("SELECT * FROM proficiency_items ORDER BY id")
    assert len(items) == 8
    mated = [r for r in items if r["mated"]]
    non_mated = [r for r in items if not r["mated"]]
    assert all(r["probe_person"] == r["photo_person"] for r in mated)
    assert all(r["probe_person"] != r["photo_person"] for r in non_mated)
    assert np.mean([r["score"] for r in mated]) > np.mean([r["score"] for r in non_mated]) + 0.2
    # A hard pair is its probe's highest-scoring other person: no other pair of that probe scores above it.
    hard = [r for r in non_mated if r["hard"]]
    assert hard and all(h["score"] >= r["score"] for h in hard for r in non_mated if r["probe_jpeg"] == h["probe_jpeg"])
    for r in items:
        probe = cv2.imdecode(np.frombuffer(r["probe_jpeg"], np.uint8), cv2.IMREAD_COLOR)
        photo = cv2.imdecode(np.frombuffer(r["photo_jpeg"], np.uint8), cv2.IMREAD_COLOR)
        assert probe.shape[0] < 160 and probe.shape[0] * 2 < photo.shape[0]  # a capture-sized, live-like crop
        emb = np.frombuffer(r["photo_embedding"], np.float32)
        assert r["embedding_dim"] == engine.embedding_dim == emb.shape[0]
        assert abs(float(np.linalg.norm(emb)) - 1.0) < 1e-3
    row = store.one("SELECT * FROM proficiency_sets")
    assert row["model_id"] == engine.model_id and row["name"] == "force set 1"
    assert int(row["loaded_by"]) == sup.user_id and len(row["source_sha256"]) == 64
    entry = store.one("SELECT * FROM audit_log WHERE action = 'known_answer.set_loaded'")
    details = json.loads(entry["details_json"])
    assert entry["actor"] == "sup" and details["mated"] == 4 and details["non_mated"] == 4
    assert set(details["rows"]["proficiency_items"]) == {str(r["id"]) for r in items}
    assert set(details["rows"]["proficiency_sets"]) == {str(row["id"])}
    assert ledger.verify(store) == []
    assert [s["items"] for s in proficiency.list_sets(store, sup)] == [8]


def _refusal(store, engine, sup, folder, truth: str) -> str:
    (folder / "truth.csv").write_text(truth, encoding="utf-8")
    with pytest.raises(proficiency.ProficiencyError) as caught:
        proficiency.load_set(store, engine, sup, folder, folder / "truth.csv", "bad")
    assert _stored(store) == (0, 0, 0)  # nothing stored, nothing logged as loaded
    return str(caught.value)


def test_a_csv_without_the_person_column_is_refused(store, engine, people, folder):
    message = _refusal(store, engine, people[0], folder, "photo,name\nimg16.jpg,P-001\n")
    assert "lacks the column person" in message and "nothing was stored" in message


def test_bad_rows_are_named_and_the_whole_set_is_refused(store, engine, people, folder):
    cv2.imwrite(str(folder / "wall.jpg"), np.full((300, 300, 3), 140, np.uint8))  # no face in it
    message = _refusal(store, engine, people[0], folder, TRUTH + "missing.jpg,P-004\nwall.jpg,P-005\n")
    assert "2 bad rows" in message
    assert "line 7:" in message and "missing.jpg" in message
    assert "line 8:" in message and "wall.jpg: no face found" in message
    assert "line 2:" not in message  # the good rows are not blamed


def test_a_photo_outside_the_folder_or_listed_twice_is_a_bad_row(store, engine, people, folder):
    message = _refusal(store, engine, people[0], folder, TRUTH + "../outside.jpg,P-004\nimg16.jpg,P-001\n")
    assert "line 7:" in message and "outside the folder" in message
    assert "line 8:" in message and "listed twice" in message


def test_a_set_without_a_mated_pair_is_refused(store, engine, people, folder):
    message = _refusal(store, engine, people[0], folder, "photo,person\nimg16.jpg,P-001\nimg20.jpg,P-002\n")
    assert "mated pair" in message


def test_an_operator_may_not_load_a_set(store, engine, people, folder):
    _, op = people
    with pytest.raises(PermissionDenied):
        proficiency.load_set(store, engine, op, folder, folder / "truth.csv", "mine")
    assert _stored(store) == (0, 0, 0)
    assert store.one("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'access.refused' AND actor = 'op'")["n"] == 1
    with pytest.raises(PermissionDenied):
        proficiency.list_sets(store, op)


def test_the_command_line_loads_and_lists_a_set(tmp_path, engine, folder, monkeypatch, capsys):
    from console.cli.commands import main
    from console.store import open_store

    with open_store(tmp_path / "cli") as s:
        repo.create_user(s, "sup", "Supervisor", "supervisor", password_hash=password_hash())
    common = ["--data-dir", str(tmp_path / "cli"), "--as", "sup", "--password-stdin"]
    monkeypatch.setattr(sys, "stdin", io.StringIO(SUPERVISOR_PASSWORD + "\n"))
    assert main(["known-answer", "load", str(folder), "--csv", str(folder / "truth.csv"), "--name", "cli set",
                 *common]) == 0
    assert "4 mated and 4 non-mated pairs" in capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.StringIO(SUPERVISOR_PASSWORD + "\n"))
    assert main(["known-answer", "list", *common]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["name"], r["items"], r["mated_items"]) for r in listed] == [("cli set", 8, 4)]
    monkeypatch.setattr(sys, "stdin", io.StringIO(SUPERVISOR_PASSWORD + "\n"))
    assert main(["known-answer", "load", str(folder), "--name", "x", *common]) == 2  # no --csv: one clear line
    assert "needs FOLDER, --csv" in capsys.readouterr().err


def test_the_benchmark_builder_writes_a_set_outside_the_repository_and_says_when_data_is_missing(tmp_path):
    from benchmarks import proficiency_set

    with pytest.raises(SystemExit, match="no dlib-johns"):
        proficiency_set.build(tmp_path / "nothing", tmp_path / "out")
    for person, names in (("John_A", ("img16.jpg", "img17.jpg")), ("John_B", ("img20.jpg", "img21.jpg"))):
        (tmp_path / "data" / "dlib-johns" / person).mkdir(parents=True)
        for name in names:
            shutil.copy(DATA / name, tmp_path / "data" / "dlib-johns" / person / name)
    with pytest.raises(SystemExit, match="inside the repository"):
        proficiency_set.build(tmp_path / "data", proficiency_set.ROOT / "proficiency-out")
    assert not (proficiency_set.ROOT / "proficiency-out").exists()
    made = proficiency_set.build(tmp_path / "data", tmp_path / "out")
    assert made["photos"] == 4 and made["people"] == 2
    truth = (tmp_path / "out" / "truth.csv").read_text(encoding="utf-8").splitlines()
    assert truth == ["photo,person", "P-001-01.jpg,P-001", "P-001-02.jpg,P-001", "P-002-01.jpg,P-002",
                     "P-002-02.jpg,P-002"]  # pseudonymous labels, never the names
