"""Aggregate statistics of every face analysed - counts and a histogram of best scores, never an
identity - for the supervisors' error-rate, what-if and equality reports (Bridges: score
distributions for all comparisons, not only alerts). Every flush is an audit entry carrying the
row's digest (console/store/ledger.py)."""

from __future__ import annotations

import json

import numpy as np

from console.clock import utcnow
from console.store import audit, ledger
from console.store.base import Store


def _dumps(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


HIST_BINS = 200  # best-match cosine scores in [-1, 1], 0.01 wide (fine enough for threshold what-ifs)


FACE_STATS_LOCK = 7301  # the advisory lock class of face counts (PostgreSQL), with the camera's id


def add_face_stats(store: Store, deployment_id: int, camera_id: int, analysed: int, gated: int,
                   best_scores: np.ndarray) -> None:
    hist, _ = np.histogram(np.clip(best_scores, -1, 1 - 1e-9), bins=HIST_BINS, range=(-1.0, 1.0))
    day = utcnow()[:10]
    with store.transaction() as conn:
        if store.dialect == "postgres":
            # Two writers of one camera's counts (a seat and a worker, or a pool's old and new holder at a
            # hand-over) take turns, so neither adds its histogram to a stale read of the other's.
            conn.execute("SELECT pg_advisory_xact_lock(?, ?)", (FACE_STATS_LOCK, camera_id))
        row = conn.execute(
            "SELECT score_hist FROM face_stats WHERE deployment_id = ? AND camera_id = ? AND day = ?",
            (deployment_id, camera_id, day),
        ).fetchone()
        old = np.array(json.loads(row["score_hist"])) if row else np.zeros(HIST_BINS, int)
        if len(old) != HIST_BINS:  # a row of coarser bins (an older console): each count into its range's first bin
            fine = np.zeros(HIST_BINS, int)
            fine[:: HIST_BINS // len(old)] = old
            old = fine
        total = hist + old
        conn.execute(
            "INSERT INTO face_stats(deployment_id, camera_id, day, faces_analysed, faces_gated, score_hist)"
            " VALUES (?,?,?,?,?,?) ON CONFLICT(deployment_id, camera_id, day) DO UPDATE SET"
            " faces_analysed = face_stats.faces_analysed + excluded.faces_analysed,"
            " faces_gated = face_stats.faces_gated + excluded.faces_gated, score_hist = ?",
            (deployment_id, camera_id, day, analysed, gated, _dumps(total.tolist()), _dumps(total.tolist())),
        )
        # The counts are the denominator of every published false-alert rate: each flush is logged with
        # the row's new digest, so counts changed in the database no longer match (console/store/ledger.py).
        audit.append(store, "pipeline", "face_stats.counted", "camera", camera_id, {
            "deployment_id": deployment_id, "day": day, "analysed": int(analysed), "gated": int(gated),
            "rows": ledger.digests(conn, "face_stats", "deployment_id = ? AND camera_id = ? AND day = ?",
                                   (deployment_id, camera_id, day))})
