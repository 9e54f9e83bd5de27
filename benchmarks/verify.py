"""`audit verify` on a long log, with few and with many signed checkpoints.

    python main.py bench verify --entries 100000 --checkpoints 1,1000

Each run builds a fresh SQLite store in a temporary folder with ``--entries`` audit entries, of which
the given number are signed checkpoints spread evenly (each one an ``audit.checkpoint`` entry and a
file in the seat's own witness folder, as ``checkpoints.make`` leaves them). Building that many
entries one commit at a time would take minutes, so they are written in one transaction - but
with the product's own hash (``audit.entry_hash``), tree (``merkle``) and signature
(``checkpoints.sign``), so the log is one the product would accept. Then the whole of what
``audit verify`` runs (``audit_trail.integrity``) is timed on a newly opened store.
"""

from __future__ import annotations

import json
import time
from pathlib import Path


def _details_json(details: dict) -> str:
    return json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _signer(store):
    """A supervisor with a sign-off key, made as a first sign-in makes it; and the key, opened."""
    from console.services.accounts.auth import actor_for
    from console.services.record import signing_keys
    from console.store import repo

    repo.create_user(store, "bench-sup", "Bench supervisor", "supervisor")
    actor = actor_for(store, "bench-sup")
    signing_keys.at_sign_in(store, actor, PASSWORD)
    return actor, signing_keys.unlock(store, actor, PASSWORD)


PASSWORD = "a pass phrase for the benchmark only"


def build_log(store, entries: int, checkpoints_wanted: int, signoffs: int = 0) -> tuple[int, int]:
    """Grow the store's log to ``entries`` entries, ``checkpoints_wanted`` of them signed checkpoints
    and ``signoffs`` of them signed report sign-offs, each kind spread evenly; returns how many of
    each were written. Plain entries and checkpoints go in by the thousand; a sign-off goes through
    ``audit.append`` (its statement signs the log as it stands, read back from the store)."""
    from console import clock
    from console.services.record import signing_keys
    from console.store import audit, checkpoints, merkle

    store.after_audit_append = None  # no checkpoints but the ones placed here
    signer = _signer(store) if signoffs else None
    acc = merkle.Accumulator()
    for r in store.query("SELECT hash FROM audit_log ORDER BY seq"):
        acc.add(r["hash"].encode("ascii"))
    last = store.one("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
    seq, prev = (int(last["seq"]), last["hash"]) if last else (0, audit.GENESIS)
    span = entries - seq
    every = max(1, span // max(1, checkpoints_wanted))
    sign_every = max(1, span // max(1, signoffs))
    log = checkpoints.log_id(store)
    witness = checkpoints.local_witness_dir(store)
    made = signed = 0
    at = clock.utcnow()
    rows: list[tuple] = []

    def flush():
        with store.transaction() as conn:
            conn.executemany("INSERT INTO audit_log(seq, at, actor, action, subject_type, subject_id, details_json,"
                             " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        rows.clear()

    while seq < entries:
        seq += 1
        left = entries - seq
        if signer and signed < signoffs and left and (seq - entries + span) % sign_every == sign_every // 2:
            flush()
            actor, key = signer
            statement = signing_keys.signed_statement(store, key, actor, 1, "0" * 64)
            audit.append(store, actor.username, signing_keys.SIGNED_OFF, "deployment", 1,
                         {"record_sha256": "0" * 64, "note": "bench", **statement})
            prev = store.one("SELECT hash FROM audit_log WHERE seq = ?", (seq,))["hash"]
            acc.add(prev.encode("ascii"))
            signed += 1
            continue
        if checkpoints_wanted and made < checkpoints_wanted and (left == 0 or (seq % every == 0
                                                                             and left >= every // 2)):
            cp = checkpoints.sign(store, acc.size, acc.root().hex(), log)
            checkpoints.write_to(witness, cp)
            action, subject_type, subject_id = checkpoints.ACTION, "checkpoint", str(cp.size)
            details = _details_json({**cp.to_json(), "reason": "bench", "witness_failures": []})
            made += 1
        else:
            action, subject_type, subject_id = "bench.entry", "bench", str(seq)
            details = _details_json({"n": seq, "note": "an entry of the benchmark's log"})
        digest = audit.entry_hash(seq, at, "console", action, subject_type, subject_id, details, prev)
        rows.append((seq, at, "console", action, subject_type, subject_id, details, prev, digest))
        if seq == 1:
            log = digest
        acc.add(digest.encode("ascii"))
        prev = digest
        if len(rows) >= 5000:
            flush()
    flush()
    return made, signed


def time_verify(folder: Path, repeats: int) -> tuple[float, bool, str]:
    """The best of ``repeats`` runs of what ``audit verify`` runs, each on a newly opened store."""
    from console.services.record import audit_trail
    from console.store import open_store

    best, ok, summary = float("inf"), False, ""
    for _ in range(repeats):
        with open_store(folder) as store:
            t0 = time.perf_counter()
            result = audit_trail.integrity(store)
            best = min(best, time.perf_counter() - t0)
        ok = result.ok
        summary = (f"{result.checkpoints.summary()}; {result.signoffs.summary()}" if ok
                   else " | ".join(result.lines()[:6]))
    return best, ok, summary


def bench_verify(entries: int, checkpoint_counts: list[int], repeats: int = 3, signoffs: int = 0) -> dict:
    import tempfile

    from console.store import open_store

    out: dict[str, dict] = {}
    for n in checkpoint_counts:
        with tempfile.TemporaryDirectory() as tmp:
            with open_store(tmp) as store:
                t0 = time.perf_counter()
                made, signed = build_log(store, entries, n, signoffs)
                built = time.perf_counter() - t0
            seconds, ok, summary = time_verify(Path(tmp), repeats)
        out[str(n)] = {"entries": entries, "checkpoints": made, "signoffs": signed, "verify_s": round(seconds, 3),
                       "ok": ok, "build_s": round(built, 1)}
        print(f"audit verify of {entries:,} entries with {made:,} checkpoints and {signed} sign-offs: {seconds:.3f} s"
              f" (best of {repeats}); {'holds' if ok else 'FAILED'}: {summary}")
    if len(checkpoint_counts) > 1:
        low, high = out[str(checkpoint_counts[0])], out[str(checkpoint_counts[-1])]
        out["ratio"] = {"of": f"{checkpoint_counts[-1]} vs {checkpoint_counts[0]} checkpoints",
                        "value": round(high["verify_s"] / low["verify_s"], 2) if low["verify_s"] else None}
        print(f"ratio {out['ratio']['of']}: {out['ratio']['value']}")
    return {"verify": out}
