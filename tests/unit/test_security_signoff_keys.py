"""Each supervisor's sign-off key (Step 12): made at first sign-in under their password, logged by
its public key, kept through a password change, replaced after an administrator's reset; every
report sign-off signed with it and checked by ``audit verify`` - against a forger who rewrites the
sign-off's entry and recomputes every hash with the console's own ``entry_hash``."""

import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from console.errors import ConsoleError
from console.services.accounts import auth
from console.services.record import audit_trail, reports, signing_keys
from console.services.setup import deployments
from console.store import audit, proof_check, repo
from tests.factories import SUPERVISOR_PASSWORD, password_hash, small_deployment

NEW_PASSWORD = "a violet harbour lantern at dusk"


@pytest.fixture
def keyed(db, tmp_path, monkeypatch):
    monkeypatch.setenv("ORC_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("ORC_DATA_DIR", str(tmp_path / "seat"))  # PostgreSQL: the seat's own folder
    d = small_deployment(db, operators=("ann",))
    repo.create_user(db, "chief", "Chief", "administrator", password_hash=password_hash(NEW_PASSWORD + " chief"))
    # A record is signed once, after its deployment ended: a second deployment for a second sign-off.
    d.second = repo.create_deployment(db, repo.DeploymentSpec("D2", "P", "R", "2026-01-01T00:00:00Z",
                                                              "2099-01-01T00:00:00Z", 0.4, 0.363, "m"),
                                      d.supervisor_id, "sup")
    for dep in (d.deployment_id, d.second):
        deployments.end(db, None, dep, "done")
    return db, d


def key_entries(store) -> list[dict]:
    return [{**json.loads(r["details_json"]), "_seq": r["seq"]} for r in
            store.query("SELECT seq, details_json FROM audit_log WHERE action = ? ORDER BY seq", (signing_keys.CREATED,))]


def signoff_entry(store) -> dict:
    row = store.one("SELECT seq, details_json FROM audit_log WHERE action = 'report.signed_off' ORDER BY seq DESC LIMIT 1")
    return {**json.loads(row["details_json"]), "_seq": row["seq"]}


def test_a_supervisors_first_sign_in_makes_a_key_only_their_password_opens(keyed):
    store, d = keyed
    sup = auth.login(store, "sup", SUPERVISOR_PASSWORD)
    path = signing_keys.key_path(store, sup.user_id)
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    header, pem = path.read_bytes().split(b"\n", 1)
    assert b"ENCRYPTED PRIVATE KEY" in pem
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(pem, None)
    with pytest.raises(ValueError):  # the password itself is not the passphrase: scrypt of it is
        serialization.load_pem_private_key(pem, SUPERVISOR_PASSWORD.encode())
    key = signing_keys.unlock(store, sup, SUPERVISOR_PASSWORD)
    raw = signing_keys.public_raw(key)
    [entry] = key_entries(store)
    assert entry["public_key"] == base64.b64encode(raw).decode() == json.loads(header)["public_key"]
    assert entry["key_fingerprint"] == proof_check.key_fingerprint(raw) and entry["replaces"] is None
    assert entry["username"] == "sup" and entry["user_id"] == sup.user_id
    auth.login(store, "sup", SUPERVISOR_PASSWORD)
    assert len(key_entries(store)) == 1  # one key, logged once
    assert not list(path.parent.glob(f"signoff-{d.supervisor_id + 1}-*"))  # an operator has none


def test_a_sign_in_under_the_keys_password_does_no_key_crypto(keyed, monkeypatch):
    store, _ = keyed
    auth.login(store, "sup", SUPERVISOR_PASSWORD)

    def no(*_a):
        raise AssertionError("the key was opened at sign-in")

    monkeypatch.setattr(signing_keys, "_open", no)
    monkeypatch.setattr(signing_keys, "_passphrase", no)
    assert auth.login(store, "sup", SUPERVISOR_PASSWORD).role == "supervisor"


def test_a_sign_off_is_signed_by_the_supervisors_key_and_verifies(keyed):
    store, d = keyed
    sup = auth.login(store, "sup", SUPERVISOR_PASSWORD)
    digest = reports.sign_off(store, sup, d.deployment_id, "checked", SUPERVISOR_PASSWORD)
    entry = signoff_entry(store)
    st = entry["statement"]
    assert (st["deployment_id"], st["record_sha256"], st["signer"], st["signer_user_id"]) == \
        (d.deployment_id, digest, "sup", sup.user_id)
    assert st["log_size"] == entry["_seq"] - 1 and len(st["log_root"]) == 64 and st["signed_at"]
    public = base64.b64decode(key_entries(store)[0]["public_key"])
    Ed25519PublicKey.from_public_bytes(public).verify(base64.b64decode(entry["signature"]), signing_keys.message(st))
    result = audit_trail.integrity(store)
    assert result.ok and result.signoffs.signed == 1
    assert "report sign-offs: 1 signed and verified" in result.lines()
    row = store.one("SELECT signed_at FROM report_signoffs")
    assert row["signed_at"] == st["signed_at"]


def test_security_a_sign_off_with_a_wrong_password_is_refused_and_counted(keyed):
    store, d = keyed
    sup = auth.login(store, "sup", SUPERVISOR_PASSWORD)
    with pytest.raises(auth.LoginError):
        reports.sign_off(store, sup, d.deployment_id, "checked", "not my password at all")
    assert store.one("SELECT COUNT(*) AS n FROM report_signoffs")["n"] == 0
    failed = store.one("SELECT details_json FROM audit_log WHERE action = 'login.failed' ORDER BY seq DESC LIMIT 1")
    assert json.loads(failed["details_json"]) == {"reason": "wrong password", "for": "report sign-off",
                                                  "failures": 1, "locked_until": None}


def test_a_password_change_keeps_the_key(keyed):
    store, d = keyed
    sup = auth.login(store, "sup", SUPERVISOR_PASSWORD)
    reports.sign_off(store, sup, d.deployment_id, "first", SUPERVISOR_PASSWORD)
    before = key_entries(store)[0]["key_fingerprint"]
    auth.change_password(store, "sup", SUPERVISOR_PASSWORD, NEW_PASSWORD)
    key = signing_keys.unlock(store, sup, NEW_PASSWORD)
    assert proof_check.key_fingerprint(signing_keys.public_raw(key)) == before
    with pytest.raises(Exception, match="cannot be opened"):
        signing_keys.unlock(store, sup, SUPERVISOR_PASSWORD)
    sup = auth.login(store, "sup", NEW_PASSWORD)
    reports.sign_off(store, sup, d.second, "again", NEW_PASSWORD)
    assert [e["key_fingerprint"] for e in key_entries(store)] == [before]
    result = audit_trail.integrity(store)
    assert result.ok and result.signoffs.signed == 2


def test_an_administrators_reset_makes_a_new_key_and_old_sign_offs_still_verify(keyed):
    store, d = keyed
    sup = auth.login(store, "sup", SUPERVISOR_PASSWORD)
    reports.sign_off(store, sup, d.deployment_id, "before the reset", SUPERVISOR_PASSWORD)
    path = signing_keys.key_path(store, sup.user_id)
    auth.reset_password(store, auth.actor_for(store, "chief"), "sup", NEW_PASSWORD)
    sup = auth.login(store, "sup", NEW_PASSWORD)
    first, second = key_entries(store)
    assert second["replaces"] == first["key_fingerprint"] != second["key_fingerprint"]
    assert "reset" in second["reason"]
    assert list(path.parent.glob(f"{path.stem}.replaced-*.pem"))  # the old file, kept beside
    reports.sign_off(store, sup, d.second, "after the reset", NEW_PASSWORD)
    assert signoff_entry(store)["statement"]["key_fingerprint"] == second["key_fingerprint"]
    result = audit_trail.integrity(store)
    assert result.ok and result.signoffs.signed == 2, result.lines()


def test_sign_offs_made_before_sign_off_keys_are_listed_not_failed(keyed):
    store, d = keyed
    audit.append(store, "sup", "report.signed_off", "deployment", d.deployment_id, {"record_sha256": "0" * 64,
                                                                                    "note": "an older release"})
    result = audit_trail.integrity(store)
    assert result.ok and result.signoffs.unsigned
    seq = signoff_entry(store)["_seq"]
    assert result.signoffs.unsigned[0].endswith(f"by sup (audit entry {seq}): unsigned (made before sign-off keys)")


def test_a_key_folder_that_cannot_be_written_does_not_stop_the_sign_in(keyed, tmp_path, monkeypatch):
    store, d = keyed
    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("ORC_KEY_DIR", str(tmp_path / "not-a-folder"))
    sup = auth.login(store, "sup", SUPERVISOR_PASSWORD)
    assert sup.role == "supervisor" and key_entries(store) == []
    with pytest.raises(ConsoleError, match="sign-off key cannot be opened"):
        reports.sign_off(store, sup, d.deployment_id, "checked", SUPERVISOR_PASSWORD)
    assert store.one("SELECT COUNT(*) AS n FROM report_signoffs")["n"] == 0


# -- a forger with the SQLite file ---------------------------------------------------------------
def rewrite_entry(store, seq: int, change) -> None:
    """Triggers off, the entry's details changed, every later hash recomputed with entry_hash, triggers back."""
    conn = store.conn
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'"
                            ).fetchall()
    for t in triggers:
        conn.execute(f"DROP TRIGGER {t['name']}")
    details = json.loads(conn.execute("SELECT details_json FROM audit_log WHERE seq = ?", (seq,)).fetchone()[0])
    change(details)
    conn.execute("UPDATE audit_log SET details_json = ? WHERE seq = ?",
                 (json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False), seq))
    prev = conn.execute("SELECT hash FROM audit_log WHERE seq = ?", (seq - 1,)).fetchone()["hash"]
    for r in conn.execute("SELECT * FROM audit_log WHERE seq >= ? ORDER BY seq", (seq,)).fetchall():
        digest = audit.entry_hash(r["seq"], r["at"], r["actor"], r["action"], r["subject_type"], r["subject_id"],
                                  r["details_json"], prev)
        conn.execute("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, r["seq"]))
        prev = digest
    for t in triggers:
        conn.execute(t["sql"])
    store._merkle_tree = None


def _other_key_signs(details: dict) -> None:
    forger = Ed25519PrivateKey.generate()
    details["statement"]["key_fingerprint"] = proof_check.key_fingerprint(signing_keys.public_raw(forger))
    details["signature"] = base64.b64encode(forger.sign(signing_keys.message(details["statement"]))).decode()


def _record_changed(details: dict) -> None:
    details["record_sha256"] = details["statement"]["record_sha256"] = "f" * 64


def _signature_swapped(details: dict) -> None:
    details["signature"] = base64.b64encode(Ed25519PrivateKey.generate().sign(b"something else")).decode()


def _stripped(details: dict) -> None:
    del details["statement"], details["signature"]


@pytest.mark.parametrize("forge, named", [
    (_record_changed, "signature does not verify"),
    (_signature_swapped, "signature does not verify"),
    (_other_key_signs, "signed with a key the log does not hold for sup"),
    (_stripped, "unsigned, though sup had a sign-off key from audit entry"),
])
def test_security_a_rewritten_sign_off_is_named_by_verify_attack(store, tmp_path, monkeypatch, forge, named):
    monkeypatch.setenv("ORC_KEY_DIR", str(tmp_path / "keys"))
    d = small_deployment(store)
    deployments.end(store, None, d.deployment_id, "done")
    sup = auth.login(store, "sup", SUPERVISOR_PASSWORD)
    reports.sign_off(store, sup, d.deployment_id, "checked", SUPERVISOR_PASSWORD)
    assert audit_trail.integrity(store).ok
    seq = signoff_entry(store)["_seq"]
    rewrite_entry(store, seq, forge)
    assert audit.verify_chain(store).ok  # the chain alone is fooled
    result = audit_trail.integrity(store)
    assert not result.ok and not result.signoffs.ok
    wanted = f"sign-off of deployment {d.deployment_id} by sup (audit entry {seq}): {named}"
    assert any(p.startswith(wanted) for p in result.signoffs.problems), result.signoffs.problems
    assert "FAILED" in result.signoffs.summary()
