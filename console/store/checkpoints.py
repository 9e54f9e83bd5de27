"""Signed checkpoints of the audit log, and the witness folders that keep them.

The hash chain shows a change only to someone who did not recompute it. A checkpoint is the log's
size and Merkle root (console/store/merkle.py) signed with this installation's Ed25519 key, and
copied where the database's holder cannot reach: the administrator's witness folders and this
seat's own witness folder. Once a checkpoint has left, a log rewritten below its size - every hash
recomputed, the triggers restored - no longer reproduces the signed root (console/store/witness.py).

Where things are (``key_dir`` and ``local_witness_dir``):
- the checkpoint key: ``<data dir>/keys/checkpoint-ed25519.pem`` (PKCS#8, mode 0600, folder 0700),
  made on first need; never in the database. ``ORC_KEY_DIR`` puts the key folder elsewhere (a
  place the database's holder cannot read). The data directory is the SQLite store's folder; on
  PostgreSQL, the seat's own per-user data directory (each seat signs with its own key).
- the local witness: ``<data dir>/witness/``: every checkpoint this seat made or saw in the log.
- the administrator's witnesses: the ``audit``/``witnesses`` setting (a list of folders).

When: every CHECKPOINT_EVERY_ENTRIES entries, or at the first entry after CHECKPOINT_EVERY_MINUTES,
after the commit that wrote them; at every report sign-off; on demand (``make``). Each checkpoint is
also appended to the log as an ``audit.checkpoint`` entry, so every seat of a shared store sees it
and keeps a copy.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

from console import clock
from console.store import merkle
from console.store.base import Store
from console.store.proof_check import CHECKPOINT_FORMAT, checkpoint_message, checkpoint_problem, key_fingerprint

CHECKPOINT_EVERY_ENTRIES = 100
CHECKPOINT_EVERY_MINUTES = 10
KEY_FILE = "checkpoint-ed25519.pem"
ACTION = "audit.checkpoint"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checkpoint:
    log: str  # the hash of the log's first entry: which log this is
    size: int
    root: str  # hex
    time: str
    public_key: str  # base64 of the raw 32-byte Ed25519 key
    key_fingerprint: str  # "sha256:" + hex of the raw key
    signature: str  # base64
    format: str = CHECKPOINT_FORMAT

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Checkpoint:
        return cls(**{k: data[k] for k in ("log", "size", "root", "time", "public_key", "key_fingerprint",
                                           "signature", "format")})

    def problem(self) -> str | None:
        return checkpoint_problem(self.to_json())

    def file_name(self) -> str:
        stamp = self.time.replace(":", "").replace("-", "").replace(".", "")
        return f"checkpoint-{self.size:010d}-{stamp}-{self.key_fingerprint[7:19]}.json"


# -- where -------------------------------------------------------------------------------------
def installation_dir(store: Store) -> Path:
    """The seat's own data directory: the SQLite store's folder, or (PostgreSQL) a folder of the
    per-user one for this database (named by a digest of its address: one seat may work several)."""
    import hashlib

    from console.paths import default_data_dir

    if store.dialect == "sqlite":
        return Path(store.path).parent
    return default_data_dir() / "postgres" / hashlib.sha256(str(store.path).encode()).hexdigest()[:16]


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    try:
        path.chmod(0o700)
    except OSError:
        pass
    return path


def key_dir(store: Store) -> Path:
    override = os.environ.get("ORC_KEY_DIR")
    return _private_dir(Path(override) if override else installation_dir(store) / "keys")


def local_witness_dir(store: Store) -> Path:
    return installation_dir(store) / "witness"


def write_private(path: Path, data: bytes) -> None:
    """A new file only its owner can read (never replaces one)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except OSError:  # a full disk, say: no half-written key (or checkpoint) left to trip over later
        path.unlink(missing_ok=True)
        raise


def signing_key(store: Store):
    """This installation's checkpoint key, made (0600) on first need."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = key_dir(store) / KEY_FILE
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        try:
            write_private(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
        except FileExistsError:
            pass  # another process of this seat made it first: use theirs
        else:
            return key
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def public_raw(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def installation_fingerprint(store: Store) -> str:
    return key_fingerprint(public_raw(signing_key(store)))


# -- the log as leaves ----------------------------------------------------------------------------
def log_id(store: Store) -> str:
    row = store.one("SELECT hash FROM audit_log WHERE seq = 1")
    return row["hash"] if row else ""


def leaf_hashes(store: Store, after: int = 0) -> list[bytes]:
    """The leaf hashes of the entries after ``after``, in order (leaf bytes: the stored hash's ASCII)."""
    return [merkle.leaf_hash(r["hash"].encode("ascii"))
            for r in store.query("SELECT hash FROM audit_log WHERE seq > ? ORDER BY seq", (after,))]


def current_tree(store: Store) -> merkle.Accumulator:
    """The tree of the whole log, grown from what this connection hashed before (rebuilt if the log
    is now shorter than what was hashed: it was cut)."""
    top = store.one("SELECT COUNT(*) AS n FROM audit_log")["n"]
    acc = getattr(store, "_merkle_tree", None)
    if acc is None or acc.size > top:
        acc = merkle.Accumulator()
    for h in leaf_hashes(store, acc.size):
        acc.add_hash(h)
    store._merkle_tree = acc
    return acc


# -- making one ----------------------------------------------------------------------------------
def sign(store: Store, size: int, root_hex: str, log: str) -> Checkpoint:
    key = signing_key(store)
    raw = public_raw(key)
    at = clock.utcnow()
    signature = key.sign(checkpoint_message(log, size, root_hex, at))
    return Checkpoint(log, size, root_hex, at, base64.b64encode(raw).decode(), key_fingerprint(raw),
                      base64.b64encode(signature).decode())


def configured_witnesses(store: Store) -> list[Path]:
    from console.store.settings import get_setting

    return [Path(p) for p in get_setting(store, "audit", "witnesses", []) or []]


def write_to(folder: Path, cp: Checkpoint) -> Path:
    """The checkpoint as a JSON file in ``folder`` (made if missing), written whole."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / cp.file_name()
    if not target.exists():
        tmp = folder / f".{target.name}.tmp"
        tmp.write_text(json.dumps(cp.to_json(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, target)
    return target


def publish(store: Store, cp: Checkpoint, extra: tuple[Path, ...] | list[Path] = ()) -> list[str]:
    """Write a checkpoint to this seat's witness folder, the configured ones and ``extra``; the
    folders that could not take it (an unmounted share, say) are named, not fatal."""
    failed = []
    for folder in [local_witness_dir(store), *configured_witnesses(store), *extra]:
        try:
            write_to(Path(folder), cp)
        except OSError as exc:
            failed.append(f"{folder}: {exc.strerror or exc}")
            log.warning("audit checkpoint not written to witness folder %s: %s", folder, exc)
    return failed


def make(store: Store, extra: tuple[Path, ...] | list[Path] = (), reason: str = "") -> Checkpoint:
    """Sign the log as it stands now, publish it to every witness and record it in the log."""
    from console.store import audit

    store._checkpointing = True
    try:
        acc = current_tree(store)
        cp = sign(store, acc.size, acc.root().hex(), log_id(store))
        failed = publish(store, cp, extra)
        audit.append(store, "console", ACTION, "checkpoint", cp.size,
                     {**cp.to_json(), "reason": reason, "witness_failures": failed})
        return cp
    finally:
        store._checkpointing = False


def latest_in_log(store: Store) -> tuple[int, Checkpoint] | None:
    row = store.one("SELECT seq, details_json FROM audit_log WHERE action = ? ORDER BY seq DESC LIMIT 1", (ACTION,))
    if row is None:
        return None
    try:
        return int(row["seq"]), Checkpoint.from_json(json.loads(row["details_json"]))
    except (KeyError, TypeError, ValueError):
        return None


def due(store: Store, last: tuple[int, Checkpoint] | None, now: datetime | None = None) -> bool:
    """Whether the log has grown by CHECKPOINT_EVERY_ENTRIES since ``last`` (the latest checkpoint
    entry), or has grown at all and ``last`` is CHECKPOINT_EVERY_MINUTES old."""
    top = store.audit_high_water()
    since_seq = last[0] if last else 0
    if top - since_seq >= CHECKPOINT_EVERY_ENTRIES:
        return True
    if top <= since_seq:
        return False
    at = last[1].time if last else (store.one("SELECT at FROM audit_log WHERE seq = 1") or {"at": None})["at"]
    if not at:
        return False
    then = datetime.fromisoformat(at.replace("Z", "+00:00"))
    return (now or clock.now()) - then >= timedelta(minutes=CHECKPOINT_EVERY_MINUTES)


def keep_seen(store: Store, last: tuple[int, Checkpoint] | None) -> None:
    """Keep a copy of the latest checkpoint in the log (another seat's, on a shared store) in this
    seat's own witness folder, if its signature holds."""
    if last is None:
        return
    cp = last[1]
    if not (local_witness_dir(store) / cp.file_name()).exists() and cp.problem() is None:
        write_to(local_witness_dir(store), cp)


def after_commit(store: Store) -> None:
    """Run after a commit that appended to the log: keep what other seats signed, sign when due.
    Never fails the caller (the commit is done): a failure is logged."""
    if getattr(store, "_checkpointing", False):
        return
    try:
        last = latest_in_log(store)
        keep_seen(store, last)
        if due(store, last):
            make(store, reason="due")
    except Exception:  # noqa: BLE001 - the entry is committed; a checkpoint that failed is only logged
        log.exception("audit checkpoint failed")
