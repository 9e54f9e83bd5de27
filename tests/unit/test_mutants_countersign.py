"""The installation key's countersignature of key entries (console/store/countersign.py), held
line by line: what the signed message covers, where the key is found when no key folder is named,
how a malformed countersignature or checkpoint entry is treated, and what is listed on
PostgreSQL (issue 32's mutation check)."""

from __future__ import annotations

import base64
import types

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from console.store import audit, checkpoints, countersign, proof_check

_DETAILS = {"user_id": 7, "username": "sup", "key_fingerprint": "sha256:" + "cd" * 32, "replaces": "sha256:old",
            "reason": "first sign-in"}


def test_the_countersigned_message_names_the_log_the_user_the_key_and_the_key_it_replaces():
    assert countersign.message("LOG", _DETAILS) == (
        b"orc-key-countersign/1\nlog LOG\nuser 7 sup\nkey sha256:" + b"cd" * 32 + b"\nreplaces sha256:old\n")
    for field, other in (("user_id", 8), ("username", "eve"), ("key_fingerprint", "sha256:x"), ("replaces", None)):
        assert countersign.message("LOG", {**_DETAILS, field: other}) != countersign.message("LOG", _DETAILS), field
    assert countersign.message("LOG", {**_DETAILS, "reason": "other"}) == countersign.message("LOG", _DETAILS)


def _countersigned(store) -> dict:
    audit.append(store, "admin", "test.first", "test", 1, {})
    return countersign.sign(store, dict(_DETAILS))


def test_a_countersignature_made_here_holds_and_each_signed_field_changed_breaks_it(store, tmp_path, monkeypatch):
    monkeypatch.setenv("ORC_KEY_DIR", str(tmp_path / "keys"))
    details = _countersigned(store)
    assert details["countersigned_by"] == checkpoints.installation_fingerprint(store)
    assert countersign.problem(store, details) is None
    for field in ("user_id", "username", "key_fingerprint", "replaces"):
        assert countersign.problem(store, {**details, field: "changed"}).startswith(
            "its countersignature does not verify"), field


def test_a_countersignature_with_characters_outside_base64_does_not_verify(store, tmp_path, monkeypatch):
    """A lenient decoder drops stray characters, and the signature would then pass."""
    monkeypatch.setenv("ORC_KEY_DIR", str(tmp_path / "keys"))
    details = _countersigned(store)
    padded = {**details, "countersignature": "!" + details["countersignature"]}
    assert base64.b64decode(padded["countersignature"]) == base64.b64decode(details["countersignature"])
    assert countersign.problem(store, padded).startswith("its countersignature does not verify")


def test_another_keys_countersignature_and_a_missing_key_are_named_exactly(store, tmp_path, monkeypatch):
    monkeypatch.setenv("ORC_KEY_DIR", str(tmp_path / "keys"))
    details = _countersigned(store)
    other = {**details, "countersigned_by": "sha256:someone-else"}
    assert countersign.problem(store, other) == ("countersigned by another key (sha256:someone-else), not the"
                                                 " installation's")
    monkeypatch.setenv("ORC_KEY_DIR", str(tmp_path / "nowhere"))
    assert countersign.problem(store, details) == "this machine holds no installation key"
    assert countersign.unchecked(store, details) == ("this machine holds no installation key: check it at a seat"
                                                     " of the installation")


def test_without_a_named_key_folder_the_key_lives_in_the_stores_own_folder(store, monkeypatch):
    monkeypatch.delenv("ORC_KEY_DIR", raising=False)
    folder = checkpoints.installation_dir(store) / "keys"
    assert countersign.installation_key(store) is None and not folder.exists()  # checking makes none
    assert countersign.covered_by_checkpoint(store) == 0
    details = _countersigned(store)  # signing makes it, in <store folder>/keys
    assert (folder / checkpoints.KEY_FILE).is_file()
    assert proof_check.key_fingerprint(checkpoints.public_raw(countersign.installation_key(store))) == \
        details["countersigned_by"]
    assert countersign.problem(store, details) is None and countersign.unchecked(store, details) is None
    cp = checkpoints.make(store)
    assert countersign.covered_by_checkpoint(store) == cp.size


def test_covered_by_checkpoint_reads_only_the_installations_sizes_and_skips_a_malformed_entry(store, tmp_path,
                                                                                              monkeypatch):
    monkeypatch.setenv("ORC_KEY_DIR", str(tmp_path / "keys"))
    assert countersign.covered_by_checkpoint(store) == 0  # a key folder with no key: nothing covered
    _countersigned(store)
    assert countersign.covered_by_checkpoint(store) == 0  # a key, no checkpoint yet
    ours = checkpoints.installation_fingerprint(store)
    audit.append(store, "system", checkpoints.ACTION, "audit_log", 0, {"key_fingerprint": ours})  # no size
    assert countersign.covered_by_checkpoint(store) == 0
    audit.append(store, "system", checkpoints.ACTION, "audit_log", 0, {"key_fingerprint": ours, "size": "many"})
    audit.append(store, "system", checkpoints.ACTION, "audit_log", 0, {"key_fingerprint": "sha256:x", "size": 99})
    cp = checkpoints.make(store)  # after the malformed one: still read
    assert countersign.covered_by_checkpoint(store) == cp.size < 99


def test_on_a_shared_database_server_another_seats_countersignature_is_listed_not_checked(tmp_path, monkeypatch):
    """Each seat has an installation key of its own: here only this seat's are checked. (The key is
    found through ORC_KEY_DIR, so a stand-in for the PostgreSQL store carries only its dialect.)"""
    monkeypatch.setenv("ORC_KEY_DIR", str(tmp_path / "keys"))
    seat = types.SimpleNamespace(dialect="postgres")
    ours = proof_check.key_fingerprint(checkpoints.public_raw(checkpoints.signing_key(seat)))
    theirs = proof_check.key_fingerprint(checkpoints.public_raw(Ed25519PrivateKey.generate()))
    assert countersign.unchecked(seat, {"countersigned_by": ours}) is None
    assert countersign.unchecked(seat, {"countersigned_by": theirs}) == (
        f"countersigned by {theirs}, another seat's key (not checked on PostgreSQL)")
    sqlite = types.SimpleNamespace(dialect="sqlite")  # one installation key: checked, and failed if another's
    assert countersign.unchecked(sqlite, {"countersigned_by": theirs}) is None
