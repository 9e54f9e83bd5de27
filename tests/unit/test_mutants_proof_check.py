"""The offline proof checker (console/store/proof_check.py) against bugs planted by hand that no test
caught (issue 32): its key fingerprint check removed, so that a checkpoint signed by a stranger's key
and labelled with the installation's fingerprint passed; its leaf-hash check removed. And the mutants
``python main.py bench mutation --module proof_check`` found alive."""

import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from console.services.accounts.auth import actor_for
from console.services.record import audit_trail
from console.store import proof_check
from tests.unit.test_security_checkpoints import decision_entry, signed  # noqa: F401  (the fixture)

FINGERPRINT_LIE = "its key fingerprint is not that of its public key"


def _proof(signed) -> dict:  # noqa: F811  (the fixture's value)
    store = signed["store"]
    proof = audit_trail.prove(store, actor_for(store, "sup"), decision_entry(store, signed["decision"]))
    assert proof_check.proof_problems(proof) == []
    return proof


def _signed_by_stranger(cp: dict, fingerprint: str | None = None) -> dict:
    """The checkpoint's own message signed with a key made up now; labelled with ``fingerprint``
    (the stranger's own when None)."""
    stranger = Ed25519PrivateKey.generate()
    raw = stranger.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    message = proof_check.checkpoint_message(cp["log"], int(cp["size"]), cp["root"], cp["time"])
    return {**cp, "public_key": base64.b64encode(raw).decode(), "signature": base64.b64encode(stranger.sign(message))
            .decode(), "key_fingerprint": fingerprint or proof_check.key_fingerprint(raw)}


def _run(tmp_path, proof, capsys) -> tuple[int, str]:
    path = tmp_path / "proof.json"
    path.write_text(json.dumps(proof))
    code = proof_check.main([str(path)])
    return code, capsys.readouterr().out


def test_a_stranger_key_labelled_with_the_installation_fingerprint_is_refused_attack(signed, tmp_path, capsys):  # noqa: F811
    proof = _proof(signed)
    ours = proof["checkpoint"]["key_fingerprint"]
    lying = {**proof, "checkpoint": _signed_by_stranger(proof["checkpoint"], ours)}
    assert proof_check.checkpoint_problem(lying["checkpoint"]) == FINGERPRINT_LIE
    assert proof_check.proof_problems(lying) == [f"checkpoint: {FINGERPRINT_LIE}"]
    code, out = _run(tmp_path, lying, capsys)
    assert code == 1 and f"FAILED: checkpoint: {FINGERPRINT_LIE}" in out and "proof holds" not in out


def test_a_stranger_key_that_names_itself_verifies_alone_and_prints_its_own_fingerprint(signed, tmp_path, capsys):  # noqa: F811
    """The checker cannot know the force's key: it prints the fingerprint it checked, and the reader
    compares it with the published one (docs/audit-proofs.md). A stranger's key shows as a stranger's."""
    proof = _proof(signed)
    ours = proof["checkpoint"]["key_fingerprint"]
    theirs = {**proof, "checkpoint": _signed_by_stranger(proof["checkpoint"])}
    code, out = _run(tmp_path, theirs, capsys)
    assert code == 0 and theirs["checkpoint"]["key_fingerprint"] in out and ours not in out


def test_a_proof_whose_leaf_hash_is_not_its_entry_is_refused(signed):  # noqa: F811
    proof = _proof(signed)
    wrong = {**proof, "leaf_hash": "00" * 32}
    assert proof_check.proof_problems(wrong) == ["the leaf hash is not that of the entry's hash"]
    # the entry's hash itself, rather than its leaf (no 0x00 prefix): a second preimage of another kind
    bare = {**proof, "leaf_hash": hashlib.sha256(proof["entry"]["hash"].encode()).hexdigest()}
    assert proof_check.proof_problems(bare) == ["the leaf hash is not that of the entry's hash"]


def test_the_checker_prints_what_it_checked(signed, tmp_path, capsys):  # noqa: F811
    proof = _proof(signed)
    code, out = _run(tmp_path, proof, capsys)
    cp, entry = proof["checkpoint"], proof["entry"]
    assert code == 0
    assert out.splitlines() == [
        f"proof holds: entry {entry['seq']} ({entry['action']} at {entry['at']}) is in the log {cp['log'][:16]}... "
        f"as signed at {cp['time']} with {cp['size']} entries, root {cp['root']}",
        f"signed by key {cp['key_fingerprint']}: compare it with the fingerprint the force published"]


@pytest.mark.parametrize("argv", [[], ["a.json", "b.json"]])
def test_the_checker_takes_exactly_one_file(argv, capsys):
    assert proof_check.main(argv) == 2
    assert capsys.readouterr().err == "usage: python proof_check.py PROOF.json\n"


def test_an_unreadable_or_non_object_file_is_named(tmp_path, capsys):
    missing = tmp_path / "nope.json"
    assert proof_check.main([str(missing)]) == 2
    assert capsys.readouterr().err.startswith(f"cannot read {missing}: ")
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    assert proof_check.main([str(listed)]) == 1
    assert capsys.readouterr().out == "FAILED: not a JSON object\n"


def test_the_checker_finds_the_root_of_every_leaf_of_small_trees_as_the_log_builds_it():
    """proof_check.py is written apart from console/store/merkle.py (a third party copies it alone):
    the two must agree on every audit path, and a path of the wrong length or index leads nowhere."""
    from console.store import merkle

    for n in range(1, 20):
        leaves = [merkle.leaf_hash(f"entry {i}".encode()) for i in range(n)]
        root = merkle.root_of_hashes(leaves)
        for i in range(n):
            path = merkle.inclusion_proof(i, leaves)
            assert proof_check.root_from_path(i, n, leaves[i], path) == root, (n, i)
            if path:
                assert proof_check.root_from_path(i, n, leaves[i], path[:-1]) is None, (n, i)
            assert proof_check.root_from_path(i, n, leaves[i], path + [leaves[0]]) is None, (n, i)
        for bad in (-1, n):
            assert proof_check.root_from_path(bad, n, leaves[0], merkle.inclusion_proof(0, leaves)) is None


def test_a_key_or_signature_with_characters_outside_base64_is_malformed_not_cleaned(signed):  # noqa: F811
    cp = _proof(signed)["checkpoint"]
    for field in ("public_key", "signature"):
        bad = {**cp, field: cp[field][:8] + "!" + cp[field][8:]}
        assert proof_check.checkpoint_problem(bad).startswith("it is malformed (Error: ")


def test_a_changed_root_is_named_with_the_signature_and_the_path_problems(signed):  # noqa: F811
    proof = _proof(signed)
    cp = {**proof["checkpoint"], "root": "ab" * 32}
    assert proof_check.proof_problems({**proof, "checkpoint": cp}) == [
        "checkpoint: its signature does not verify: forged, or changed after it was signed",
        f"entry {proof['entry']['seq']} is not in the log the checkpoint signed (size {cp['size']}, root "
        f"{'ab' * 8}...): the audit path leads elsewhere"]


def test_an_entry_with_text_beyond_ascii_hashes_as_the_log_hashes_it():
    from console.store import audit

    entry = {"seq": 7, "at": "2026-12-07T08:00:00Z", "actor": "José Müller", "action": "decision.recorded",
             "subject_type": "alert", "subject_id": "12", "details": {"note": "wearing a niqāb; « same man »"},
             "prev_hash": "00" * 32}
    expected = audit.entry_hash(7, entry["at"], entry["actor"], entry["action"], "alert", "12",
                                json.dumps(entry["details"]), entry["prev_hash"])
    assert proof_check.entry_hash(entry) == expected
