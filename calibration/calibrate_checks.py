"""The checks behind ``calibrate.py``: genuine scores, and the report half's observed rates against the
fit half's prediction (``--check``'s comparison with the committed file is in ``calibrate_compare``)."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from console.services.accuracy import calibration as cal_service  # noqa: E402

CHECK_THRESHOLDS = (0.30, 0.33, 0.363, 0.38, 0.40, 0.42, 0.44, 0.46)


def genuine_scores(m: dict) -> dict[str, np.ndarray]:
    clean, degraded = [], []
    johns = m["johns"]
    by_subject: dict[str, list] = {}
    for s in johns:
        by_subject.setdefault(s.subject, []).append(s)
    for items in by_subject.values():
        cl = [s for s in items if s.variant == "clean"]
        for i in range(len(cl)):
            for j in range(i + 1, len(cl)):
                clean.append(float(cl[i].embedding @ cl[j].embedding))
        for s in items:
            if s.variant != "clean" and s.passed:
                degraded.extend(float(s.embedding @ c.embedding) for c in cl if c.source != s.source)
    by_source: dict[str, list] = {}
    for s in m["deep"]:
        by_source.setdefault(s.source, []).append(s)
    for a, b, same in m["pairs"]:
        if not same or a not in by_source or b not in by_source:
            continue
        ca = next(s for s in by_source[a] if s.variant == "clean")
        cb = next(s for s in by_source[b] if s.variant == "clean")
        clean.append(float(ca.embedding @ cb.embedding))
        for probe, enrol in ((by_source[b], ca), (by_source[a], cb)):
            degraded.extend(float(s.embedding @ enrol.embedding) for s in probe if s.variant != "clean" and s.passed)
    c, d = np.array(clean), np.array(degraded)
    return {"all": np.concatenate([c, d]), "clean": c, "degraded": d}


def validate(report: dict, members: np.ndarray, point: list, boot: list, gal: np.ndarray, m: dict,
             names: list[str]) -> dict:
    """Observed rates on the report half (and the other checks) against what the fit-half tails predict."""
    out: dict = {"note": "predicted from the fit half's tails; observed on data the fit never saw"}
    for k, name in enumerate(names):
        ps = report[name]
        rows = []
        for t in CHECK_THRESHOLDS:
            obs = int((ps.x >= t).sum())
            pred = point[k].fmr(t)
            pb = [rep[k].fmr(t) for rep in boot]
            rows.append({"threshold": t, "observed": obs, "pairs": int(len(ps.x)), "observed_fmr": obs / len(ps.x),
                         "predicted_fmr": pred, "predicted_fmr_90": [float(np.quantile(pb, 0.05)),
                                                                     float(np.quantile(pb, 0.95))]})
        out[f"fmr_{name}_report_half"] = rows
    # FPIR on the report half: each clean portrait of the half searched against all other people of the half.
    sims = gal[members] @ gal[members].T
    np.fill_diagonal(sims, -1)
    best = sims.max(axis=1)
    n_list = len(members) - 1
    out["fpir_report_half"] = {
        "searches": int(len(best)), "watchlist": n_list,
        "rows": [{"threshold": t, "alerts": int((best >= t).sum()),
                  "expected": round(len(best) * cal_service.fpir(point[0].fmr(t), n_list), 2)} for t in CHECK_THRESHOLDS],
    }
    deep = {s.source: s for s in m["deep"] if s.variant == "clean"}
    diff = np.array([float(deep[a].embedding @ deep[b].embedding) for a, b, same in m["pairs"]
                     if not same and a in deep and b in deep])
    out["deepface_different_person_pairs"] = {
        "pairs": int(len(diff)), "max_score": round(float(diff.max()), 4),
        "rows": [{"threshold": t, "observed": int((diff >= t).sum()),
                  "expected": round(len(diff) * point[0].fmr(t), 2)} for t in CHECK_THRESHOLDS],
    }
    cam = m["webcam"]
    if cam is None or not len(cam):
        out["webcam"] = "not measured (the GIF or Pillow was missing)"
    else:
        best = (cam @ gal.T).max(axis=1)
        out["webcam"] = {
            "faces": int(len(cam)), "watchlist": int(len(gal)),
            "best_scores_top5": [round(float(v), 4) for v in np.sort(best)[::-1][:5]],
            "rows": [{"threshold": t, "alerts": int((best >= t).sum()),
                      "expected": round(len(cam) * cal_service.fpir(max(x.fmr(t) for x in point), len(gal)), 2)}
                     for t in CHECK_THRESHOLDS],
            "note": "two people only, frames of the same two faces are not independent",
        }
    return out


def _json_ready(obj):
    if isinstance(obj, dict):
        return {str(k): _json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_ready(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj
