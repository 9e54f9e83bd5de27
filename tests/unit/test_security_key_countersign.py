"""Key entries countersigned by the installation key (issue 32, store/countersign.py): someone with
the database file appends a key entry of their own, with a correct hash chain, and signs a sign-off
with it; ``audit verify`` names the entry. Entries made before countersigning are listed, not failed,
where a checkpoint by the installation key covers them."""

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from console.services.accounts import auth
from console.services.record import audit_trail, reports, signing_keys
from console.services.setup import deployments
from console.store import audit, checkpoints, countersign, proof_check
from tests.factories import SUPERVISOR_PASSWORD, small_deployment
from tests.unit.test_security_signoff_keys import key_entries, rewrite_entry, signoff_entry


@pytest.fixture
def signed_off(store, tmp_path, monkeypatch):
    monkeypatch.setenv("ORC_KEY_DIR", str(tmp_path / "keys"))
    d = small_deployment(store)
    deployments.end(store, None, d.deployment_id, "done")
    sup = auth.login(store, "sup", SUPERVISOR_PASSWORD)
    reports.sign_off(store, sup, d.deployment_id, "checked", SUPERVISOR_PASSWORD)
    result = audit_trail.integrity(store)
    assert result.ok and result.signoffs.signed == 1, result.lines()
    return store, d


def _planted_key(store, forger, countersigner=None) -> int:
    """A key entry for sup naming the forger's key, appended the product's way (a correct chain)."""
    old = key_entries(store)[-1]
    raw = signing_keys.public_raw(forger)
    details = {"username": "sup", "user_id": old["user_id"], "public_key": base64.b64encode(raw).decode(),
               "key_fingerprint": proof_check.key_fingerprint(raw), "replaces": old["key_fingerprint"],
               "reason": "planted"}
    if countersigner is not None:  # the forger countersigns with a key of their own
        sig = countersigner.sign(countersign.message(checkpoints.log_id(store), details))
        details |= {"countersignature": base64.b64encode(sig).decode(),
                    "countersigned_by": proof_check.key_fingerprint(signing_keys.public_raw(countersigner))}
    return audit.append(store, "sup", signing_keys.CREATED, "user", old["user_id"], details)


def _forged_signoff(store, forger) -> int:
    entry = signoff_entry(store)
    statement = {**entry["statement"], "key_fingerprint": proof_check.key_fingerprint(signing_keys.public_raw(forger))}
    details = {k: v for k, v in entry.items() if k != "_seq"}
    details |= {"statement": statement, "signature": base64.b64encode(forger.sign(signing_keys.message(statement)))
                .decode()}
    return audit.append(store, "sup", signing_keys.SIGNED_OFF, "deployment", statement["deployment_id"], details)


def test_a_key_entry_carries_the_installation_countersignature(signed_off):
    store, _ = signed_off
    entry = key_entries(store)[0]
    assert entry["countersigned_by"] == checkpoints.installation_fingerprint(store)
    assert countersign.problem(store, entry) is None


@pytest.mark.parametrize("countersigned, named", [
    (False, "no countersignature by the installation key"),
    (True, "countersigned by another key"),
])
def test_security_a_planted_key_entry_is_named_by_verify_attack(signed_off, countersigned, named):
    store, d = signed_off
    forger = Ed25519PrivateKey.generate()
    seq = _planted_key(store, forger, Ed25519PrivateKey.generate() if countersigned else None)
    forged = _forged_signoff(store, forger)
    assert audit.verify_chain(store).ok  # the chain alone is fooled
    result = audit_trail.integrity(store)
    assert not result.ok and not result.signoffs.ok
    problems = result.signoffs.problems
    assert any(p.startswith(f"key entry {seq} (sup): {named}") for p in problems), problems
    assert any(p.startswith(f"sign-off of deployment {d.deployment_id} by sup (audit entry {forged}): signed with a key"
                            " the log does not hold") for p in problems), problems


def test_security_a_key_entry_changed_after_countersigning_is_named_attack(signed_off):
    store, _ = signed_off
    seq = key_entries(store)[0]["_seq"]
    rewrite_entry(store, seq, lambda d: d.update(key_fingerprint="sha256:" + "ab" * 32))
    problems = audit_trail.integrity(store).signoffs.problems
    assert any(p.startswith(f"key entry {seq} (sup): its countersignature does not verify") for p in problems), problems


def test_a_key_entry_from_before_countersigning_is_listed_when_a_checkpoint_covers_it(store, tmp_path, monkeypatch):
    monkeypatch.setenv("ORC_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setattr(countersign, "sign", lambda store, details: details)  # the console before this change
    d = small_deployment(store)
    deployments.end(store, None, d.deployment_id, "done")
    sup = auth.login(store, "sup", SUPERVISOR_PASSWORD)
    reports.sign_off(store, sup, d.deployment_id, "checked", SUPERVISOR_PASSWORD)
    seq = key_entries(store)[0]["_seq"]
    assert "countersignature" not in key_entries(store)[0]
    checkpoints.make(store)
    report = audit_trail.integrity(store).signoffs
    assert report.ok and report.signed == 1, report.lines()
    assert f"key entry {seq} predates countersigning (no countersignature; covered by a checkpoint)" in report.lines()


def test_a_bare_key_entry_after_a_countersigned_one_is_a_break_even_under_a_checkpoint(signed_off):
    store, _ = signed_off
    seq = _planted_key(store, Ed25519PrivateKey.generate())
    checkpoints.make(store)  # a checkpoint over it does not make it old
    problems = audit_trail.integrity(store).signoffs.problems
    assert any(p.startswith(f"key entry {seq} (sup): no countersignature") for p in problems), problems
    assert json.loads(store.one("SELECT details_json FROM audit_log WHERE seq = ?", (seq,))["details_json"])


def test_a_machine_without_the_installation_key_lists_key_entries_unchecked_and_makes_no_key(signed_off, tmp_path,
                                                                                                monkeypatch):
    """A third party checking a copy of the data: nothing is failed for want of the key, and the
    check writes no key of its own (which would then make every countersignature another key's)."""
    store, _ = signed_off
    elsewhere = tmp_path / "no-keys-here"
    monkeypatch.setenv("ORC_KEY_DIR", str(elsewhere))
    report = audit_trail.integrity(store).signoffs
    assert not report.problems, report.lines()
    seq = key_entries(store)[0]["_seq"]
    assert any(line.startswith(f"key entry {seq}: countersignature not checked: this machine holds no installation key")
               for line in report.lines()), report.lines()
    assert not elsewhere.exists()
