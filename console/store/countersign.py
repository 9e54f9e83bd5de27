"""The installation key countersigns every key entry in the log (issue 32).

A supervisor's sign-off key is learnt from its log entry (``user.signing_key_created``). Someone who
holds the database file but not the key folder could append an entry of their own, with a correct
hash chain, naming a key they made, and sign sign-offs with it. So each key entry now carries a
signature by the installation key (``checkpoints.signing_key``, kept 0600 in the key folder, never
in the database) over the log, the user and the key's fingerprint; ``audit verify`` checks it.

Entries made before this change carry none. They are listed as "predates countersigning", not
failed, only where a checkpoint signed by the installation key covers them (the attacker cannot
make one) and no countersigned key entry comes before them. Any other bare key entry is a break.

What is not checked (listed, never failed):

* on a machine that holds no installation key (a third party checking a copy of the data): the
  countersignatures cannot be checked there, and ``audit verify`` never makes a key;
* on PostgreSQL, a key entry countersigned at another seat: every seat has an installation key of
  its own (its key folder), and the log does not yet say which keys are the control room's seats'.
  A bare key entry after a countersigned one is still a break there.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

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


def installation_key(store: Store):
    """This machine's installation key, or None when it holds none: checking never makes one (and
    never makes the key folder either)."""
    folder = os.environ.get("ORC_KEY_DIR")
    path = (Path(folder) if folder else checkpoints.installation_dir(store) / "keys") / checkpoints.KEY_FILE
    return checkpoints.signing_key(store) if path.is_file() else None


def unchecked(store: Store, details: dict) -> str | None:
    """Why this machine cannot check a countersigned key entry (listed, not failed); None when it can."""
    key = installation_key(store)
    if key is None:
        return "this machine holds no installation key: check it at a seat of the installation"
    if store.dialect != "sqlite" and details.get("countersigned_by") != key_fingerprint(checkpoints.public_raw(key)):
        return f"countersigned by {details.get('countersigned_by')}, another seat's key (not checked on PostgreSQL)"
    return None


def problem(store: Store, details: dict) -> str | None:
    """Why the entry's countersignature does not hold; None when the installation key made it."""
    from cryptography.exceptions import InvalidSignature

    key = installation_key(store)
    if key is None:
        return "this machine holds no installation key"
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

    key = installation_key(store)
    if key is None:
        return 0
    ours = key_fingerprint(checkpoints.public_raw(key))
    top = 0
    for row in store.query("SELECT details_json FROM audit_log WHERE action = ?", (checkpoints.ACTION,)):
        try:
            d = json.loads(row["details_json"])
            if d.get("key_fingerprint") == ours:
                top = max(top, int(d.get("size", 0)))
        except (TypeError, ValueError):
            continue
    return top
