"""Measure how much higher a poorer view must score: the data behind ``console/vision/margin.py``.

A small, blurred or turned face makes a less distinctive embedding; against a watchlist its
impostor scores (scores against people it is not) reach higher or lower than those of a good
view, and the threshold that keeps false alerts at the target moves with them. This script
makes poorer copies of real portraits of distinct people (smaller down to 7 px between the
eyes, blurred down to almost no detail), finds and embeds each copy with the real engine,
bands every copy by the quality actually measured on it (eye distance, sharpness, pose), and
compares, band by band, the impostor score reached at fixed false-match rates with that of
good views (the views the old quality gate searched). The difference is the band's margin.
Genuine scores (the same person, a poorer copy against a clean enrolment photo) show what
each band costs in true matches.

Data (``../shared/data`` or ``--data DIR``; read here, never shipped): congress-portraits-dev
(510 people, impostors against each other), dlib-johns and deepface-pairs (genuine pairs; the
deepface photos and the webcam footage also give real turned heads for the pose bands).

    python calibration/quality_margin.py                 # measure (cached in --cache) and print the table
    python calibration/quality_margin.py --check         # and compare with the constants in margin.py
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from console.media import read_image  # noqa: E402
from console.services.accuracy import watchlist_eval as wl  # noqa: E402
from console.vision.engine import describe_faces, largest_face, load_engine  # noqa: E402
from console.vision.margin import BUNDLED  # noqa: E402
from console.vision.quality import QualityGate, sharpness  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
# name -> (target eye distance in px or None for full size, Gaussian blur sigma as a share of the eye
# distance, sensor noise sigma in grey levels, JPEG quality or None, horizontal motion blur length as
# a share of the eye distance). The last ones imitate CCTV: small, noisy, compressed, moving.
VARIANTS: dict[str, tuple[float | None, float, float, int | None, float]] = {
    "clean": (None, 0.0, 0.0, None, 0.0),
    **{f"eye{e}": (float(e), 0.0, 0.0, None, 0.0) for e in (7, 8, 9, 10, 11, 12, 14, 16, 20, 24)},
    **{f"blur{int(b * 1000):03d}": (None, b, 0.0, None, 0.0) for b in (0.02, 0.03, 0.04, 0.05, 0.065, 0.08, 0.1)},
    "eye12-blur030": (12.0, 0.03, 0.0, None, 0.0),
    "eye16-blur040": (16.0, 0.04, 0.0, None, 0.0),
    "eye10-blur030": (10.0, 0.03, 0.0, None, 0.0),
    **{f"eye{e}-cctv": (float(e), 0.0, 6.0, 40, 0.0) for e in (8, 10, 12, 16, 24)},
    **{f"motion{int(mo * 100):02d}": (None, 0.0, 0.0, None, mo) for mo in (0.15, 0.3, 0.5)},
    "eye12-motion30": (12.0, 0.0, 0.0, None, 0.3),
}
FIELDS = ("eye_px", "sharpness", "yaw", "pitch", "roll", "det")


def degrade(image: np.ndarray, eye_px: float, spec: tuple, seed: int = 0) -> np.ndarray:
    target, blur, noise, jpeg, motion = spec
    scale = 1.0 if target is None else min(1.0, target / max(eye_px, 1e-6))
    out = image
    if scale < 1.0:
        h, w = image.shape[:2]
        out = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    if blur > 0:
        sigma = blur * eye_px * scale
        out = cv2.GaussianBlur(out, (0, 0), sigmaX=sigma, sigmaY=sigma)
    if motion > 0:
        length = max(2, round(motion * eye_px * scale))
        kernel = np.full((1, length), 1.0 / length, np.float32)
        out = cv2.filter2D(out, -1, kernel, borderType=cv2.BORDER_REPLICATE)
    if noise > 0:
        rng = np.random.default_rng(seed)
        out = np.clip(out.astype(np.float32) + rng.normal(0, noise, out.shape), 0, 255).astype(np.uint8)
    if jpeg is not None:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, jpeg])
        if ok:
            out = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return out


def _face(engine, image: np.ndarray):
    """The largest face, on a grey border so a small copy is not cut by its own frame."""
    return largest_face(describe_faces(engine, wl._pad(image)))


def _row(face) -> list[float]:
    lm = np.asarray(face.detection.landmarks, dtype=np.float64)
    q = face.quality
    return [float(np.linalg.norm(lm[1] - lm[0])), sharpness(face.crop), q.yaw, q.pitch, q.roll, q.detector_score]


def measure(engine, data: Path, cache: Path) -> dict:
    """Every face of every copy; copies already in the cache are not measured again."""
    m: dict = {}
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as z:
            m = {k: z[k] for k in z.files}
    done = set(m["variant"].tolist()) if m else set()
    todo = [v for v in VARIANTS if v not in done]
    if not todo:
        return m
    rows: dict[str, list] = {"set": [], "subject": [], "source": [], "variant": [], "emb": [], "q": []}
    sets = [("congress", wl.congress_items(data)), ("johns", wl.johns_items(data)),
            ("deepface", wl.deepface_items(data)[0])]
    t0 = time.perf_counter()
    for set_name, items in sets:
        for n, (subject, path) in enumerate(items):
            image = read_image(path)
            clean = _face(engine, image)
            if clean is None:
                continue
            eye = float(np.linalg.norm(clean.detection.landmarks[1] - clean.detection.landmarks[0]))
            for variant in todo:
                face = clean if variant == "clean" else _face(engine, degrade(image, eye, VARIANTS[variant], n))
                if face is None:
                    continue
                rows["set"].append(set_name)
                rows["subject"].append(subject)
                rows["source"].append(path.name)
                rows["variant"].append(variant)
                rows["emb"].append(face.embedding.astype(np.float32))
                rows["q"].append(_row(face))
        print(f"{set_name}: {len(rows['set'])} faces so far ({time.perf_counter() - t0:.0f} s)", flush=True)
    new = {k: np.array(v) for k, v in rows.items()}
    if m:
        new = {k: np.concatenate([m[k], new[k]]) for k in rows}
        new["webcam_emb"], new["webcam_q"] = m["webcam_emb"], m["webcam_q"]
    else:
        new["webcam_emb"], new["webcam_q"] = webcam_faces(engine, data)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(cache, **new)
    return new


def webcam_faces(engine, data: Path) -> tuple[np.ndarray, np.ndarray]:
    """Every face in the webcam GIF (two people on no list, many turned views)."""
    from PIL import Image, ImageSequence

    embs, qs = [], []
    with Image.open(data / "openface-webcam" / "youtube-web.gif") as gif:
        for frame in ImageSequence.Iterator(gif):
            bgr = np.asarray(frame.convert("RGB"))[:, :, ::-1].copy()
            for face in describe_faces(engine, bgr):
                embs.append(face.embedding.astype(np.float32))
                qs.append(_row(face))
    return np.array(embs).reshape(-1, 128), np.array(qs).reshape(-1, len(FIELDS))


# -- analysis ---------------------------------------------------------------------------------
_GATE = QualityGate()
GOOD = {"eye_px": _GATE.min_eye_distance_px, "sharpness": _GATE.min_sharpness, "yaw": _GATE.max_yaw_deg,
        "pitch": _GATE.max_pitch_deg, "roll": _GATE.max_roll_deg}  # the good-view limits
RATES = (1e-3, 1e-4)
EYE_EDGES = [7, 8, 9, 10, 11, 12, 14, 16, 20, 28, 1e9]
SHARP_EDGES = [0, 2, 3, 5, 8, 12, 16, 20, 30, 1e9]
YAW_EDGES = [0, 20, 40, 60, 90]


def _q(m: dict, name: str) -> np.ndarray:
    return m["q"][:, FIELDS.index(name)]


def good_mask(q: np.ndarray) -> np.ndarray:
    return ((q[:, 0] >= GOOD["eye_px"]) & (q[:, 1] >= GOOD["sharpness"]) & (np.abs(q[:, 2]) <= GOOD["yaw"])
            & (np.abs(q[:, 3]) <= GOOD["pitch"]) & (np.abs(q[:, 4]) <= GOOD["roll"]))


def score_at(scores: np.ndarray, p: float) -> float:
    """The impostor score reached by a share p of the pairs (NaN when too few pairs to say)."""
    if len(scores) * p < 5:
        return float("nan")
    return float(np.quantile(scores, 1.0 - p))


def tail_threshold(scores: np.ndarray, n_entries: int = 2000, target: float = 1e-5) -> float:
    """The calibration's method on these scores alone (GPD over the 99th percentile, as
    calibration/calibrate.py): the threshold for N entries at the target. NaN with too few pairs."""
    from scipy.stats import genpareto

    from console.services.accuracy.calibration import Tail, per_entry_rate

    if len(scores) < 20000:
        return float("nan")
    u = float(np.quantile(scores, 0.99))
    y = scores[scores > u] - u
    xi, _, sigma = genpareto.fit(y, floc=0)
    return Tail(u, float(len(y) / len(scores)), float(sigma), float(xi)).score_at(per_entry_rate(n_entries, target))


def impostor_scores(m: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Congress probes (every copy) against every OTHER congress person's clean portrait."""
    cong = m["set"] == "congress"
    clean = cong & (m["variant"] == "clean")
    gal, gal_subj = m["emb"][clean], m["subject"][clean]
    rows = np.flatnonzero(cong)
    sims = m["emb"][rows] @ gal.T
    other = m["subject"][rows][:, None] != gal_subj[None, :]
    return rows, sims, other


def genuine_scores(m: dict) -> tuple[np.ndarray, np.ndarray]:
    """(row, score): johns probes (any copy of photos 2..11) against the person's first clean
    photo; deepface same-person pairs: copies of file_y against the clean file_x."""
    rows, scores = [], []
    johns = np.flatnonzero(m["set"] == "johns")
    first: dict[str, int] = {}
    for r in johns:
        if m["variant"][r] == "clean" and m["subject"][r] not in first:
            first[m["subject"][r]] = r
    for r in johns:
        e = first.get(m["subject"][r])
        if e is not None and m["source"][r] != m["source"][e]:
            rows.append(r)
            scores.append(float(m["emb"][r] @ m["emb"][e]))
    deep = np.flatnonzero(m["set"] == "deepface")
    for a, b, same in wl.deepface_pairs(DATA):
        if not same:
            continue
        ea = [r for r in deep if m["source"][r] == a and m["variant"][r] == "clean"]
        for r in deep:
            if ea and m["source"][r] == b:
                rows.append(r)
                scores.append(float(m["emb"][r] @ m["emb"][ea[0]]))
    return np.array(rows, dtype=int), np.array(scores)


def bands(values: np.ndarray, edges: list[float]) -> list[tuple[str, np.ndarray]]:
    out = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        label = f"{lo:g}-{hi:g}" if hi < 1e8 else f">={lo:g}"
        out.append((label, (values >= lo) & (values < hi)))
    return out


def report(m: dict) -> dict:
    rows, sims, other = impostor_scores(m)
    q = m["q"][rows]
    variant = m["variant"][rows]
    degraded = variant != "clean"
    ref_rows = degraded & good_mask(q)
    ref = sims[ref_rows][other[ref_rows]]
    ref_q = {p: score_at(ref, p) for p in RATES}
    ref_t = tail_threshold(ref)
    print(f"reference: {ref_rows.sum()} degraded copies within the good-view limits, {len(ref)} impostor pairs; "
          f"score at FMR 1e-3 {ref_q[1e-3]:.3f}, 1e-4 {ref_q[1e-4]:.3f}; fitted threshold (N=2000, 1e-5) {ref_t:.3f}")
    g_rows, g_scores = genuine_scores(m)
    g_q = m["q"][g_rows]
    out: dict = {"reference": {"probes": int(ref_rows.sum()), "pairs": int(len(ref)), **{str(p): ref_q[p] for p in RATES},
                               "fitted_threshold_2000": ref_t}}

    def line(kind: str, label: str, sel: np.ndarray, gsel: np.ndarray) -> None:
        sc = sims[sel][other[sel]]
        qs = {p: score_at(sc, p) for p in RATES}
        t = tail_threshold(sc)
        d = {p: qs[p] - ref_q[p] for p in RATES}
        gs = g_scores[gsel]
        print(f"{kind:>9} {label:>7}: probes {int(sel.sum()):>5} pairs {len(sc):>8} | score@1e-3 {qs[1e-3]:.3f} "
              f"({d[1e-3]:+.3f}) @1e-4 {qs[1e-4]:.3f} ({d[1e-4]:+.3f}) | fitted t {t:.3f} ({t - ref_t:+.3f}) | "
              f"genuine {len(gs):>4} mean {gs.mean() if len(gs) else float('nan'):.3f}")
        out.setdefault(kind, {})[label] = {"probes": int(sel.sum()), "pairs": int(len(sc)),
                                           **{f"shift_{p:g}": d[p] for p in RATES}, "fitted_shift": t - ref_t,
                                           "genuine": int(len(gs)),
                                           "genuine_mean": float(gs.mean()) if len(gs) else None,
                                           "genuine_scores": gs.tolist()}

    def sel_variant(vs: np.ndarray, names) -> np.ndarray:
        return np.isin(vs, list(names))

    size_v = [v for v in VARIANTS if v.startswith("eye") and "blur" not in v]
    blur_v = [v for v in VARIANTS if v.startswith("blur")]
    for label, sel in bands(q[:, 0], EYE_EDGES):
        line("eye_px", label, sel & sel_variant(variant, size_v),
             np.isin(m["variant"][g_rows], size_v) & dict(bands(g_q[:, 0], EYE_EDGES))[label])
    for label, sel in bands(q[:, 1], SHARP_EDGES):
        line("sharpness", label, sel & sel_variant(variant, blur_v),
             np.isin(m["variant"][g_rows], blur_v) & dict(bands(g_q[:, 1], SHARP_EDGES))[label])
    for label, sel in bands(q[:, 1], SHARP_EDGES):
        line("sharp_sz", label, sel & sel_variant(variant, size_v),
             np.isin(m["variant"][g_rows], size_v) & dict(bands(g_q[:, 1], SHARP_EDGES))[label])
    for v in VARIANTS:
        if v != "clean":
            line("variant", v, variant == v, m["variant"][g_rows] == v)
    pose_report(m, out)
    floors = {"size": ("eye_px", q[:, 0], FLOOR_BANDS["size"], size_v),
              "sharpness": ("sharpness", q[:, 1], FLOOR_BANDS["sharpness"], blur_v)}
    margins = {}
    for name, (label, values, (lo, hi), names) in floors.items():
        sel = (values >= lo) & (values < hi) & sel_variant(variant, names)
        d = bootstrap_shift(m, rows, sims, other, sel, ref_rows)
        margins[name] = max(0.0, round(float(np.quantile(d, 0.95)), 3))
        print(f"{name} floor band {label} {lo:g}-{hi:g}: fitted threshold shift over {len(d)} bootstrap replicates: "
              f"median {np.median(d):+.3f}, 5th-95th pct {np.quantile(d, 0.05):+.3f} to {np.quantile(d, 0.95):+.3f} "
              f"-> margin at the floor {margins[name]:.3f}")
    margins["pose"] = max(margins.values())
    print(f"pose: no turned heads of distinct people in the data; margin at the floor set to the largest measured, "
          f"{margins['pose']:.3f}")
    out["margins"] = margins
    return out


# The band just above each floor: its margin is the factor's margin at the floor (the ramp's end).
FLOOR_BANDS = {"size": (_GATE.floor_eye_distance_px, _GATE.floor_eye_distance_px + 1.0),
               "sharpness": (_GATE.floor_sharpness, 8.0)}
BOOT_REPS = 100
BOOT_SEED = 1414


def bootstrap_shift(m: dict, rows: np.ndarray, sims: np.ndarray, other: np.ndarray, band: np.ndarray,
                    ref: np.ndarray) -> np.ndarray:
    """Replicates of (band's fitted threshold - reference's), resampling the 510 identities with
    replacement: a pair's weight is the product of its two people's counts (both halves of a
    replicate use the same draw, so the difference carries the shared part of the noise)."""
    from scipy.stats import genpareto

    from console.services.accuracy.calibration import Tail, per_entry_rate

    subjects = sorted(set(m["subject"][rows].tolist()))
    index = {s: i for i, s in enumerate(subjects)}
    probe_id = np.array([index[s] for s in m["subject"][rows]])
    clean = (m["set"] == "congress") & (m["variant"] == "clean")
    gal_id = np.array([index[s] for s in m["subject"][clean]])
    p = per_entry_rate(2000, 1e-5)

    def pairs(sel: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r, c = np.nonzero(other[sel])
        sc = sims[sel][r, c]
        order = np.argsort(sc, kind="stable")
        return sc[order], probe_id[sel][r][order], gal_id[c][order]

    def fit(x: np.ndarray, a: np.ndarray, b: np.ndarray, w: np.ndarray) -> float:
        wp = (w[a] * w[b]).astype(np.int64)
        keep = wp > 0
        x, wp = x[keep], wp[keep]
        cw = np.cumsum(wp)
        u = float(x[min(np.searchsorted(cw, 0.99 * cw[-1]), len(x) - 1)])
        exc = x > u
        y = np.repeat(x[exc] - u, wp[exc])
        xi, _, sigma = genpareto.fit(y, floc=0)
        return Tail(u, float(wp[exc].sum() / cw[-1]), float(sigma), float(xi)).score_at(p)

    band_pairs, ref_pairs = pairs(band), pairs(ref)
    rng = np.random.default_rng(BOOT_SEED)
    out = []
    for _ in range(BOOT_REPS):
        w = np.bincount(rng.integers(0, len(subjects), len(subjects)), minlength=len(subjects))
        out.append(fit(*band_pairs, w) - fit(*ref_pairs, w))
    return np.array(out)


def pose_report(m: dict, out: dict) -> None:
    """Real turned heads: the johns and deepface photos (clean) and the webcam faces, none of them
    on the list, against all 510 portraits, banded by |yaw|."""
    cong = (m["set"] == "congress") & (m["variant"] == "clean")
    gal = m["emb"][cong]
    probe = (m["set"] != "congress") & (m["variant"] == "clean")
    emb = np.concatenate([m["emb"][probe], m["webcam_emb"]])
    q = np.concatenate([m["q"][probe], m["webcam_q"]])
    sims = emb @ gal.T
    base = None
    for label, sel in bands(np.abs(q[:, 2]), YAW_EDGES):
        sc = sims[sel].ravel()
        s3 = score_at(sc, 1e-3)
        if base is None:
            base = s3
        mx = sims[sel].max(axis=1) if sel.any() else np.zeros(0)
        print(f"     |yaw| {label:>7}: faces {int(sel.sum()):>4} pairs {len(sc):>7} | score@1e-3 {s3:.3f} "
              f"({s3 - base:+.3f}) | best score against 510: median {np.median(mx) if len(mx) else float('nan'):.3f} "
              f"max {mx.max() if len(mx) else float('nan'):.3f}")
        out.setdefault("yaw", {})[label] = {"faces": int(sel.sum()), "pairs": int(len(sc)), "score_1e-3": s3,
                                            "shift_1e-3": s3 - base,
                                            "best_max": float(mx.max()) if len(mx) else None}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/quality_margin.npz"))
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    engine = load_engine(threads=1)
    m = measure(engine, args.data, args.cache)
    print(f"{len(m['set'])} faces measured ({args.cache})")
    margins = report(m)["margins"]
    shipped = {"size": BUNDLED.size, "sharpness": BUNDLED.sharpness, "pose": BUNDLED.pose}
    print(f"margins at the floors: measured {margins}; in console/vision/margin.py {shipped}")
    if args.check:
        off = {k: (margins[k], shipped[k]) for k in shipped if abs(margins[k] - shipped[k]) > 0.005}
        if off:
            print(f"check FAILED: {off} (measured, shipped) differ by more than 0.005")
            return 1
        print("check passed: the shipped margins are the measured ones (within 0.005)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
