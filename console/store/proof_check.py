"""Check an audit checkpoint or an inclusion proof with nothing but Python and ``cryptography``.

This file imports nothing from the console, so a third party (a court, a regulator, a journalist)
can copy it alone and run ``python proof_check.py PROOF.json``: it recomputes the entry's hash from
its content, the Merkle root from the leaf and its audit path (RFC 6962 / RFC 9162), and checks the
checkpoint's Ed25519 signature - then prints the signing key's fingerprint, to be compared with the
one the force published (its deployment record prints it). docs/audit-proofs.md has the procedure.

A checkpoint's signed message is the UTF-8 text (each line ends with a newline):

    orc-audit-checkpoint/1
    log <the SHA-256 hash of the log's first entry, hex>
    size <entries covered>
    root <Merkle root of those entries, hex>
    time <when it was signed, ISO 8601 UTC>
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys

CHECKPOINT_FORMAT = "orc-audit-checkpoint/1"
PROOF_FORMAT = "orc-audit-inclusion-proof/1"
ENTRY_FIELDS = ("seq", "at", "actor", "action", "subject_type", "subject_id", "details", "prev_hash")


def checkpoint_message(log: str, size: int, root_hex: str, at: str) -> bytes:
    return f"{CHECKPOINT_FORMAT}\nlog {log}\nsize {int(size)}\nroot {root_hex}\ntime {at}\n".encode()


def key_fingerprint(public_raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(public_raw).hexdigest()


def checkpoint_problem(cp: dict) -> str | None:
    """Why a checkpoint (the JSON of a checkpoint file) does not hold up on its own; None when its
    signature verifies under the public key it carries and the fingerprint is that key's."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        if cp.get("format") != CHECKPOINT_FORMAT:
            return f"not a checkpoint of format {CHECKPOINT_FORMAT}"
        raw = base64.b64decode(cp["public_key"], validate=True)
        if key_fingerprint(raw) != cp["key_fingerprint"]:
            return "its key fingerprint is not that of its public key"
        message = checkpoint_message(cp["log"], int(cp["size"]), cp["root"], cp["time"])
        Ed25519PublicKey.from_public_bytes(raw).verify(base64.b64decode(cp["signature"], validate=True), message)
    except InvalidSignature:
        return "its signature does not verify: forged, or changed after it was signed"
    except (KeyError, TypeError, ValueError) as exc:
        return f"it is malformed ({exc.__class__.__name__}: {exc})"
    return None


def entry_hash(entry: dict) -> str:
    """The audit entry's hash: SHA-256 of its canonical JSON (sorted keys, no spaces, UTF-8) without
    the hash itself - as console/store/audit.py computes it."""
    body = {k: entry[k] for k in ENTRY_FIELDS}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                          .encode()).hexdigest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_path(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes | None:
    """RFC 9162 section 2.1.3.2: the root an audit path leads to; None when it cannot fit the size."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = _node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def proof_problems(proof: dict) -> list[str]:
    """Everything wrong with an inclusion proof; empty when the entry is in the signed log."""
    try:
        if proof.get("format") != PROOF_FORMAT:
            return [f"not an inclusion proof of format {PROOF_FORMAT}"]
        entry, cp = proof["entry"], proof["checkpoint"]
        problems = []
        bad = checkpoint_problem(cp)
        if bad:
            problems.append(f"checkpoint: {bad}")
        digest = entry_hash(entry)
        if digest != entry["hash"]:
            problems.append(f"entry {entry['seq']}: its content does not hash to {entry['hash']} (altered)")
        leaf = hashlib.sha256(b"\x00" + entry["hash"].encode("ascii")).digest()
        if leaf.hex() != proof["leaf_hash"]:
            problems.append("the leaf hash is not that of the entry's hash")
        index = int(entry["seq"]) - 1
        path = [bytes.fromhex(h) for h in proof["audit_path"]]
        got = root_from_path(index, int(cp["size"]), leaf, path)
        if got is None or got.hex() != cp["root"]:
            problems.append(f"entry {entry['seq']} is not in the log the checkpoint signed (size {cp['size']}, "
                            f"root {cp['root'][:16]}...): the audit path leads elsewhere")
        return problems
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return [f"the proof is malformed ({exc.__class__.__name__}: {exc})"]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python proof_check.py PROOF.json", file=sys.stderr)
        return 2
    try:
        with open(argv[0], encoding="utf-8") as f:
            proof = json.load(f)
    except (OSError, ValueError) as exc:
        print(f"cannot read {argv[0]}: {exc}", file=sys.stderr)
        return 2
    problems = proof_problems(proof) if isinstance(proof, dict) else ["not a JSON object"]
    for p in problems:
        print(f"FAILED: {p}")
    if problems:
        return 1
    cp, entry = proof["checkpoint"], proof["entry"]
    print(f"proof holds: entry {entry['seq']} ({entry['action']} at {entry['at']}) is in the log {cp['log'][:16]}... "
          f"as signed at {cp['time']} with {cp['size']} entries, root {cp['root']}")
    print(f"signed by key {cp['key_fingerprint']}: compare it with the fingerprint the force published")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
