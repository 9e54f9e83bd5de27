"""Holding the log against the checkpoints it was signed at, and proving one entry is in it.

Every checkpoint found - in the folders named, the configured witnesses, this seat's own witness
folder and the log's own ``audit.checkpoint`` entries - must carry a valid signature, name this log,
and sign a size the log still reaches with the root the log's first ``size`` entries still hash to.
The roots are recomputed from the log: one pass keeps every perfect subtree's root
(merkle.PrefixTree), and each checkpoint's prefix root comes from them in O(log n), so a
rewrite is caught whatever hashes were recomputed: the signature cannot be.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from console.store import merkle
from console.store.base import Store
from console.store.checkpoints import (
    ACTION,
    Checkpoint,
    configured_witnesses,
    leaf_hashes,
    local_witness_dir,
    log_id,
    make,
)
from console.store.proof_check import PROOF_FORMAT


@dataclass
class CheckpointReport:
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    holding: list[Checkpoint] = field(default_factory=list)

    @property
    def latest(self) -> Checkpoint | None:
        return max(self.holding, key=lambda cp: (cp.size, cp.time), default=None)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if not self.checked:
            return "no signed checkpoint found: only the hash chain vouches for the log (" \
                   + (", ".join(self.sources) or "no witness folder") + ")"
        if self.ok:
            top = self.latest
            return (f"checkpoints hold: {self.checked} signed checkpoints match the log (latest: {top.size} entries, "
                    f"{top.time}, key {top.key_fingerprint[:23]}...)")
        return f"checkpoints FAILED: {len(self.problems)} of {self.checked} signed checkpoints do not match the log"


def read_folder(folder: Path) -> tuple[list[tuple[str, Checkpoint]], list[str]]:
    """The checkpoint files in a folder (checkpoint-*.json), and the ones that are not readable."""
    found, bad = [], []
    for path in sorted(Path(folder).glob("checkpoint-*.json")):
        try:
            found.append((str(path), Checkpoint.from_json(json.loads(path.read_text(encoding="utf-8")))))
        except (OSError, KeyError, TypeError, ValueError) as exc:
            bad.append(f"{path}: not a readable checkpoint ({exc.__class__.__name__})")
    return found, bad


def gather(store: Store, folders: list[Path] | tuple[Path, ...] = ()) -> tuple[list[tuple[str, Checkpoint]], list[str],
                                                                               list[str]]:
    """Every checkpoint found (where, checkpoint), once each; problems; the places looked at."""
    places = [*map(Path, folders), *configured_witnesses(store), local_witness_dir(store)]
    seen: set[tuple] = set()
    found: list[tuple[str, Checkpoint]] = []
    problems: list[str] = []
    looked: list[str] = []
    for folder in places:
        if str(folder) in looked:
            continue
        looked.append(str(folder))
        if not folder.is_dir():
            if folder in folders:
                problems.append(f"witness folder {folder} is missing or not a folder")
            continue
        items, bad = read_folder(folder)
        problems.extend(bad)
        found.extend(items)
    for row in store.query("SELECT seq, details_json FROM audit_log WHERE action = ? ORDER BY seq", (ACTION,)):
        try:
            found.append((f"audit entry {row['seq']}", Checkpoint.from_json(json.loads(row["details_json"]))))
        except (KeyError, TypeError, ValueError):
            problems.append(f"audit entry {row['seq']}: a checkpoint entry that cannot be read")
    looked.append("the log's own checkpoint entries")
    unique = []
    for where, cp in found:
        key = (cp.log, cp.size, cp.root, cp.time, cp.signature)
        if key not in seen:
            seen.add(key)
            unique.append((where, cp))
    return unique, problems, looked


def _day(cp: Checkpoint) -> str:
    return cp.time[:19].replace("T", " ")


def check(store: Store, folders: list[Path] | tuple[Path, ...] = (), tree: merkle.PrefixTree | None = None
          ) -> CheckpointReport:
    """Every checkpoint found, held against the log as it is now. ``tree``: the log's prefix tree when
    the caller walked the log already (``audit verify`` does, checking the chain); else one pass here."""
    found, problems, looked = gather(store, folders)
    report = CheckpointReport(checked=len(found), problems=problems, sources=looked)
    this_log = log_id(store)
    tree = tree if tree is not None else prefix_tree(store)
    n = tree.size
    for where, cp in sorted(found, key=lambda item: (item[1].size, item[1].time)):
        head = f"checkpoint of {_day(cp)}, size {cp.size} ({where})"
        bad = cp.problem()
        if bad:
            report.problems.append(f"{head}: {bad}")
        elif cp.size < 0:
            report.problems.append(f"{head}: it signed a size below zero, which no log has")
        elif cp.size > n:
            report.problems.append(f"{head}: the log has {n} entries but a checkpoint signed {cp.size}: "
                                   "truncated - entries were removed")
        elif cp.log != this_log:
            report.problems.append(f"{head}: it signed a log whose first entry hashes to {cp.log[:16]}..., this "
                                   f"log's first entry hashes to {this_log[:16]}...: rewritten from its first "
                                   "entry (or the checkpoint is another console's)")
        elif cp.size and tree.root_at(cp.size).hex() != cp.root:
            report.problems.append(f"{head}: the log's first {cp.size} entries no longer hash to the signed root "
                                   "- history was rewritten")
        else:
            report.holding.append(cp)
    return report


def prefix_tree(store: Store) -> merkle.PrefixTree:
    """The log's prefix tree, from one pass over its stored hashes."""
    tree = merkle.PrefixTree()
    for h in leaf_hashes(store):
        tree.add_hash(h)
    return tree


def latest_holding(store: Store, at_least: int = 1) -> Checkpoint | None:
    """The latest checkpoint of at least ``at_least`` entries that holds against the log, or None."""
    return max((cp for cp in check(store).holding if cp.size >= at_least), key=lambda cp: (cp.size, cp.time),
               default=None)


def inclusion_proof(store: Store, seq: int) -> dict:
    """An inclusion proof of entry ``seq`` against a signed checkpoint that covers it: the latest one
    that holds, or a new one made now."""
    row = store.one("SELECT * FROM audit_log WHERE seq = ?", (seq,))
    if row is None:
        raise ValueError(f"there is no audit entry {seq}")
    report = check(store)
    if not report.ok:
        raise ValueError("the log no longer matches its checkpoints, no proof is given: " + report.problems[0])
    cp = max((c for c in report.holding if c.size >= seq), key=lambda c: (c.size, c.time), default=None)
    if cp is None:
        cp = make(store, reason=f"proof of entry {seq}")
    hashes = leaf_hashes(store)[:cp.size]
    entry = {k: row[k] for k in ("seq", "at", "actor", "action", "subject_type", "subject_id", "prev_hash", "hash")}
    entry["details"] = json.loads(row["details_json"])
    return {"format": PROOF_FORMAT, "entry": entry, "leaf_index": seq - 1, "leaf_hash": hashes[seq - 1].hex(),
            "audit_path": [h.hex() for h in merkle.inclusion_proof(seq - 1, hashes)],
            "checkpoint": cp.to_json()}
