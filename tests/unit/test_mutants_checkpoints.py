"""Signed checkpoints (console/store/checkpoints.py), held line by line (issue 32's mutation check):
when one falls due, how it is made, signed, written and published, where its key and its witness
folder live, and what a seat keeps of another seat's checkpoint."""

from __future__ import annotations

import base64
import json
import logging
import types
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from console.store import audit, checkpoints, merkle, proof_check


@pytest.fixture
def quiet(store, monkeypatch):
    """A store whose appends make no checkpoint of their own (the tests call due, make, keep_seen)."""
    monkeypatch.delenv("ORC_KEY_DIR", raising=False)
    store._checkpointing = True
    return store


def _append(store, n: int) -> None:
    for i in range(n):
        audit.append(store, "t", "test.entry", "x", i, {"i": i})


def _first_at(store) -> datetime:
    return datetime.fromisoformat(store.one("SELECT at FROM audit_log WHERE seq = 1")["at"].replace("Z", "+00:00"))


def test_due_at_every_hundred_entries_or_ten_minutes_after_the_last_and_never_with_nothing_new(quiet):
    store = quiet
    assert not checkpoints.due(store, None)  # an empty log
    _append(store, 99)
    t0 = _first_at(store)
    assert not checkpoints.due(store, None, t0 + timedelta(minutes=10) - timedelta(seconds=1))
    assert checkpoints.due(store, None, t0 + timedelta(minutes=10))  # exactly ten minutes: due
    _append(store, 1)
    assert checkpoints.due(store, None, t0)  # a hundred entries: due at once
    store._checkpointing = False
    cp = checkpoints.make(store, reason="test")
    store._checkpointing = True
    last = checkpoints.latest_in_log(store)
    assert last[0] == 101 and last[1] == cp
    then = datetime.fromisoformat(cp.time.replace("Z", "+00:00"))
    assert not checkpoints.due(store, last, then + timedelta(hours=5))  # nothing since: never due
    _append(store, 1)
    assert not checkpoints.due(store, last, then + timedelta(minutes=9))  # timed from the checkpoint
    assert checkpoints.due(store, last, then + timedelta(minutes=10))
    _append(store, 98)
    assert not checkpoints.due(store, last, then)
    _append(store, 1)  # 100 after the checkpoint's own entry
    assert checkpoints.due(store, last, then)


def test_latest_in_log_is_the_newest_checkpoint_entry_or_none(quiet):
    store = quiet
    assert checkpoints.latest_in_log(store) is None
    _append(store, 2)
    first = checkpoints.make(store)
    second = checkpoints.make(store)
    store._checkpointing = True  # make clears it
    assert checkpoints.latest_in_log(store) == (4, second) and first.size == 2 and second.size == 3
    audit.append(store, "t", checkpoints.ACTION, "checkpoint", 9, {"size": 9})  # malformed: no signature
    assert checkpoints.latest_in_log(store) is None


def test_make_signs_the_whole_log_records_itself_and_publishes_to_every_witness(quiet, tmp_path):
    store = quiet
    _append(store, 3)
    broken = tmp_path / "a-file-not-a-folder"
    broken.write_text("x")
    extra = tmp_path / "share"
    cp = checkpoints.make(store, [extra, broken], reason="sign-off")
    row = store.one("SELECT * FROM audit_log WHERE action = ? ORDER BY seq DESC LIMIT 1", (checkpoints.ACTION,))
    assert (row["seq"], row["actor"], row["subject_type"], str(row["subject_id"])) == (4, "console", "checkpoint", "3")
    details = json.loads(row["details_json"])
    assert details.pop("reason") == "sign-off"
    [failure] = details.pop("witness_failures")
    assert failure.startswith(f"{broken}: ")
    assert details == cp.to_json()
    hashes = [r["hash"].encode("ascii") for r in store.query("SELECT hash FROM audit_log WHERE seq <= 3 ORDER BY seq")]
    assert cp.size == 3 and cp.root == merkle.root(hashes).hex()
    assert cp.log == store.one("SELECT hash FROM audit_log WHERE seq = 1")["hash"] == checkpoints.log_id(store)
    for folder in (extra, checkpoints.local_witness_dir(store)):
        assert checkpoints.Checkpoint.from_json(json.loads((folder / cp.file_name()).read_text())) == cp
    assert cp.problem() is None


def test_make_clears_its_flag_even_when_it_fails(store, monkeypatch):
    monkeypatch.setattr(checkpoints, "sign", lambda *a: (_ for _ in ()).throw(OSError("disk")))
    with pytest.raises(OSError):
        checkpoints.make(store)
    assert store._checkpointing is False


def test_a_checkpoint_is_signed_by_the_installation_key_over_its_log_size_root_and_time(quiet):
    store = quiet
    cp = checkpoints.sign(store, 7, "ab" * 32, "LOG")
    key = checkpoints.signing_key(store)
    raw = checkpoints.public_raw(key)
    assert (cp.log, cp.size, cp.root, cp.format) == ("LOG", 7, "ab" * 32, proof_check.CHECKPOINT_FORMAT)
    assert base64.b64decode(cp.public_key) == raw and len(raw) == 32
    assert cp.key_fingerprint == proof_check.key_fingerprint(raw) == checkpoints.installation_fingerprint(store)
    Ed25519PublicKey.from_public_bytes(raw).verify(base64.b64decode(cp.signature),
                                                   proof_check.checkpoint_message("LOG", 7, "ab" * 32, cp.time))
    assert datetime.fromisoformat(cp.time.replace("Z", "+00:00"))


def test_the_file_name_sorts_by_size_and_names_the_time_and_the_key():
    cp = checkpoints.Checkpoint("L", 42, "r", "2026-12-07T12:30:05.250Z", "k", "sha256:0123456789abcdef", "s")
    assert cp.file_name() == "checkpoint-0000000042-20261207T123005250Z-0123456789ab.json"
    data = {**cp.to_json(), "reason": "ignored"}
    assert checkpoints.Checkpoint.from_json(data) == cp
    del data["format"]
    with pytest.raises(KeyError):
        checkpoints.Checkpoint.from_json(data)


def test_write_to_makes_the_folder_writes_whole_json_and_never_replaces(tmp_path):
    cp = checkpoints.Checkpoint("L", 1, "r", "2026-12-07T12:30:05Z", "k", "sha256:0123456789abcdef", "s")
    folder = tmp_path / "deep" / "witness"
    path = checkpoints.write_to(folder, cp)
    assert path == folder / cp.file_name()
    assert path.read_text() == json.dumps(cp.to_json(), indent=2, sort_keys=True) + "\n"
    assert [p.name for p in folder.iterdir()] == [cp.file_name()]  # no temporary file left
    path.write_text("kept")
    assert checkpoints.write_to(folder, cp) == path and path.read_text() == "kept"


def test_publish_writes_to_this_seats_folder_the_configured_ones_and_names_those_that_failed(quiet, tmp_path,
                                                                                             monkeypatch, caplog):
    store = quiet
    configured, broken = tmp_path / "configured", tmp_path / "blocked"
    broken.write_text("a file")
    monkeypatch.setattr(checkpoints, "configured_witnesses", lambda s: [configured])
    cp = checkpoints.sign(store, 0, "00" * 32, "")
    with caplog.at_level(logging.WARNING, logger="console.store.checkpoints"):
        failed = checkpoints.publish(store, cp, [broken])
    [warning] = [r.getMessage() for r in caplog.records]
    assert warning.startswith(f"audit checkpoint not written to witness folder {broken}: [Errno ")
    assert len(failed) == 1 and failed[0].startswith(f"{broken}: ") and "Errno" not in failed[0]
    assert (configured / cp.file_name()).is_file()
    assert (checkpoints.local_witness_dir(store) / cp.file_name()).is_file()


def test_configured_witnesses_are_the_audit_witnesses_setting(quiet, tmp_path):
    from console.store import repo

    store = quiet
    assert checkpoints.configured_witnesses(store) == []
    repo.set_setting(store, "audit", "witnesses", [str(tmp_path / "a"), str(tmp_path / "b")], None, "root", "test")
    assert checkpoints.configured_witnesses(store) == [tmp_path / "a", tmp_path / "b"]


def test_the_key_and_the_witness_folder_live_beside_the_store_or_where_orc_key_dir_says(quiet, tmp_path,
                                                                                        monkeypatch):
    store = quiet
    home = Path(store.path).parent
    assert checkpoints.installation_dir(store) == home
    assert checkpoints.local_witness_dir(store) == home / "witness"
    assert checkpoints.key_dir(store) == home / "keys" and (home / "keys").stat().st_mode & 0o777 == 0o700
    key = checkpoints.signing_key(store)
    path = home / "keys" / checkpoints.KEY_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    assert checkpoints.public_raw(checkpoints.signing_key(store)) == checkpoints.public_raw(key)  # read back
    monkeypatch.setenv("ORC_KEY_DIR", str(tmp_path / "elsewhere" / "keys"))
    assert checkpoints.key_dir(store) == tmp_path / "elsewhere" / "keys"
    assert (tmp_path / "elsewhere" / "keys").stat().st_mode & 0o777 == 0o700


def test_on_a_database_server_the_installation_folder_is_per_database_in_the_seats_data_dir(tmp_path, monkeypatch):
    import hashlib

    monkeypatch.setenv("ORC_DATA_DIR", str(tmp_path / "data"))
    seat = types.SimpleNamespace(dialect="postgres", path="postgresql://seat@db/control_room")
    digest = hashlib.sha256(b"postgresql://seat@db/control_room").hexdigest()[:16]
    assert checkpoints.installation_dir(seat) == tmp_path / "data" / "postgres" / digest


def test_write_private_makes_an_owner_only_file_refuses_to_replace_and_leaves_nothing_half_written(tmp_path,
                                                                                                   monkeypatch):
    path = tmp_path / "secret"
    checkpoints.write_private(path, b"key")
    assert path.read_bytes() == b"key" and path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(FileExistsError):
        checkpoints.write_private(path, b"other")
    assert path.read_bytes() == b"key"

    class Full:
        def __init__(self, fd, mode):
            import os
            os.close(fd)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def write(self, data):
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoints.os, "fdopen", Full)
    with pytest.raises(OSError):
        checkpoints.write_private(tmp_path / "half", b"key")
    assert not (tmp_path / "half").exists()


def test_the_tree_grows_from_what_was_hashed_and_is_rebuilt_when_the_log_is_shorter(quiet):
    store = quiet
    assert checkpoints.log_id(store) == "" and checkpoints.leaf_hashes(store) == []
    _append(store, 3)
    hashes = [r["hash"].encode("ascii") for r in store.query("SELECT hash FROM audit_log ORDER BY seq")]
    assert checkpoints.leaf_hashes(store, 1) == [merkle.leaf_hash(h) for h in hashes[1:]]
    acc = checkpoints.current_tree(store)
    assert acc.size == 3 and acc.root() == merkle.root(hashes)
    _append(store, 2)
    hashes = [r["hash"].encode("ascii") for r in store.query("SELECT hash FROM audit_log ORDER BY seq")]
    assert checkpoints.current_tree(store) is acc and acc.root() == merkle.root(hashes)
    longer = merkle.Accumulator()
    for h in [*hashes, b"cut"]:
        longer.add(h)
    store._merkle_tree = longer  # what this connection hashed before the log was cut
    rebuilt = checkpoints.current_tree(store)
    assert rebuilt is not longer and rebuilt.size == 5 and rebuilt.root() == merkle.root(hashes)


def test_a_seat_keeps_a_copy_of_another_seats_checkpoint_only_if_its_signature_holds(quiet):
    store = quiet
    _append(store, 1)
    checkpoints.keep_seen(store, None)  # nothing seen: nothing written
    assert not checkpoints.local_witness_dir(store).exists()
    cp = checkpoints.sign(store, 1, checkpoints.current_tree(store).root().hex(), checkpoints.log_id(store))
    forged = checkpoints.Checkpoint(**{**cp.to_json(), "size": 2})
    checkpoints.keep_seen(store, (2, forged))
    assert not (checkpoints.local_witness_dir(store) / forged.file_name()).exists()
    checkpoints.keep_seen(store, (2, cp))
    kept = checkpoints.local_witness_dir(store) / cp.file_name()
    assert checkpoints.Checkpoint.from_json(json.loads(kept.read_text())) == cp
    kept.write_text("already here")
    checkpoints.keep_seen(store, (2, cp))
    assert kept.read_text() == "already here"


def test_after_commit_keeps_what_it_saw_signs_when_due_and_never_fails_the_caller(store, monkeypatch, caplog):
    monkeypatch.delenv("ORC_KEY_DIR", raising=False)
    monkeypatch.setattr(checkpoints, "CHECKPOINT_EVERY_ENTRIES", 3)
    _append(store, 2)
    assert checkpoints.latest_in_log(store) is None
    _append(store, 1)  # the third: due, made after the commit
    seq, cp = checkpoints.latest_in_log(store)
    assert (seq, cp.size) == (4, 3)
    assert json.loads(store.one("SELECT details_json FROM audit_log WHERE seq = 4")["details_json"])["reason"] == "due"
    (checkpoints.local_witness_dir(store) / cp.file_name()).unlink()
    checkpoints.after_commit(store)  # not due (nothing since): but the latest one seen is kept again
    assert (checkpoints.local_witness_dir(store) / cp.file_name()).is_file()
    assert checkpoints.latest_in_log(store)[0] == 4  # and no second checkpoint
    store._checkpointing = True  # inside make: nothing
    monkeypatch.setattr(checkpoints, "latest_in_log", lambda s: pytest.fail("read while checkpointing"))
    checkpoints.after_commit(store)
    store._checkpointing = False
    monkeypatch.setattr(checkpoints, "latest_in_log", lambda s: (_ for _ in ()).throw(RuntimeError("boom")))
    with caplog.at_level(logging.ERROR, logger="console.store.checkpoints"):
        checkpoints.after_commit(store)  # logged, not raised
    assert [r.getMessage() for r in caplog.records] == ["audit checkpoint failed"]


def test_due_is_timed_from_the_last_checkpoint_not_the_first_entry(quiet):
    store = quiet
    _append(store, 2)
    t0 = _first_at(store)
    late = checkpoints.Checkpoint("L", 1, "r", (t0 + timedelta(hours=1)).isoformat().replace("+00:00", "Z"), "k",
                                  "sha256:00", "s")
    assert not checkpoints.due(store, (1, late), t0 + timedelta(minutes=30))
    assert checkpoints.due(store, (1, late), t0 + timedelta(minutes=70))


def test_a_log_whose_first_entry_is_gone_is_not_due_by_time():
    cut = types.SimpleNamespace(audit_high_water=lambda: 5, one=lambda sql, args=(): None)
    assert checkpoints.due(cut, None, datetime(2030, 1, 1)) is False


def test_make_without_a_reason_records_an_empty_one(quiet):
    store = quiet
    _append(store, 1)
    checkpoints.make(store)
    row = store.one("SELECT details_json FROM audit_log WHERE action = ?", (checkpoints.ACTION,))
    assert json.loads(row["details_json"])["reason"] == ""
