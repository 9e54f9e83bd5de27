"""The installation key countersigns every key entry in the log (issue 32).

A supervisor's sign-off key is learnt from its log entry (``user.signing_key_created``). Someone who
holds the database file but not the key folder could append an entry of their own, with a correct
hash chain, naming a key they made, and sign sign-offs with it. So each key entry now carries a
signature by the installation key (``checkpoints.signing_key``, kept 0600 in the key folder, never
in the database) over the log, the user and the key's fingerprint; ``audit verify`` checks it.

Entries made before this change carry none. They are listed as "predates countersigning", not
failed, only where a checkpoint signed by the installation key covers them (the attacker cannot
make one) and no countersigned key entry comes before them. Any other bare key entry is a break.
"""

from __future__ import annotations

import base64

from console.store import checkpoints
from console.store.base import Store
from console.store.proof_check import key_fingerprint

FORMAT = "orc-key-countersign/1"


def message(log: str, details: dict) -> bytes:
    return (f"{FORMAT}\nlog {log}\nuser {details.get('user_id')} {details.get('username')}\n"
            f"key {details.get('key_fingerprint')}\nreplaces {details.get('replaces')}\n").encode()


def sign(store: Store, details: dict) -> dict:
    """The key entry's details with the installation's countersignature added."""
    key = checkpoints.signing_key(store)
    signature = key.sign(message(checkpoints.log_id(store), details))
    return {**details, "countersignature": base64.b64encode(signature).decode(),
            "countersigned_by": key_fingerprint(checkpoints.public_raw(key))}


def problem(store: Store, details: dict) -> str | None:
    """Why the entry's countersignature does not hold; None when the installation key made it."""
    from cryptography.exceptions import InvalidSignature

    key = checkpoints.signing_key(store)
    ours = key_fingerprint(checkpoints.public_raw(key))
    if details.get("countersigned_by") != ours:
        return f"countersigned by another key ({details.get('countersigned_by')}), not the installation's"
    try:
        key.public_key().verify(base64.b64decode(str(details.get("countersignature")), validate=True),
                                message(checkpoints.log_id(store), details))
    except (InvalidSignature, ValueError, TypeError):
        return "its countersignature does not verify: forged, or the entry was changed after it was signed"
    return None


def covered_by_checkpoint(store: Store) -> int:
    """The largest log size a checkpoint entry labelled with the installation's key names (its
    signature is the witness check's work): bare key entries up to it predate countersigning."""
    import json

    ours = checkpoints.installation_fingerprint(store)
    top = 0
    for row in store.conn.execute("SELECT details_json FROM audit_log WHERE action = ?", (checkpoints.ACTION,)):
        try:
            d = json.loads(row["details_json"])
            if d.get("key_fingerprint") == ours:
                top = max(top, int(d.get("size", 0)))
        except (TypeError, ValueError):
            continue
    return top
