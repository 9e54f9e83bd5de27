"""Watchlist-sized evaluation (``eval-watchlist``) and the face samples the calibration is built from.

A passer-by raises a false alert when they score above the threshold against ANY entry
of the watchlist, so false alerts grow with the list's size N. This module reads the
public test sets named by ``--data DIR`` (never shipped, never read by the running product;
README.md, "Accuracy on public test sets", says where to get them), finds and embeds each face with the real engine, makes
poorer copies of it (smaller down to the quality gate's eye distance, blurred,
JPEG-compressed) because a live face is poorer than a portrait, and measures:

* TPIR: a probe of someone on the list raises an alert on their own entry;
* FPIR: a probe of someone NOT on the list raises any alert at all.

``calibration/calibrate.py`` uses the same samples to fit the impostor tail shipped in
``resources/models/calibration.json``; ``console.services.accuracy.calibration`` reads that file.
Open to anyone: nothing is kept.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from console.errors import MediaError
from console.media import read_image
from console.vision.engine import FaceEngine, describe_faces, largest_face
from console.vision.quality import QualityGate

CONGRESS = "congress-portraits-dev"
DEEPFACE = "deepface-pairs"
JOHNS = "dlib-johns"

# How a live face may be poorer than a portrait. Sizes are the distance between the eyes
# in pixels: the quality gate searches faces from 12 px, so the smallest copy sits just
# above it (after detection on the small copy the measured distance wobbles by ~1 px).
# Blur is set near the gate's sharpness limit (about two thirds of the blurred copies pass it).
# name -> (target eye distance in px or None for full size, Gaussian blur sigma as a
#          fraction of the eye distance, JPEG quality or None)
DEGRADATIONS: dict[str, tuple[float | None, float, int | None]] = {
    "eye13": (13.0, 0.0, None),
    "eye16": (16.0, 0.0, None),
    "eye20-jpeg30": (20.0, 0.0, 30),
    "eye24-blur": (24.0, 0.03, None),
    "blur": (None, 0.035, None),
    "jpeg10": (None, 0.0, 10),
}


TEST_SETS_NEEDED = (
    f"eval-watchlist needs three public test sets, side by side in one folder given with --data DIR: {CONGRESS} "
    f"(510 official portraits of distinct people), {JOHNS} (5 people, 11 photos each) and {DEEPFACE} (300 "
    "labelled pairs of photos). They are not part of the product; README.md, \"Accuracy on public test sets\", "
    "says where to get them")


def public_sets_dir(data_dir: Path | str | None) -> Path:
    """The folder of the public test sets, or a clear error naming them (nothing is looked for elsewhere)."""
    if data_dir is None:
        raise MediaError(f"no --data given: {TEST_SETS_NEEDED}; nothing was measured")
    if not Path(data_dir).is_dir():
        raise MediaError(f"no evaluation data at {data_dir}: {TEST_SETS_NEEDED}; nothing was measured")
    return Path(data_dir)


@dataclass(frozen=True)
class Sample:
    """One face found in one (possibly degraded) image."""

    subject: str
    source: str
    variant: str  # "clean" or a DEGRADATIONS key
    embedding: np.ndarray
    eye_px: float
    yaw: float
    passed: bool  # within the default gate's good-view limits: searched at the plain threshold
    reasons: tuple[str, ...] = ()  # the limits it falls short of (calibrate --check names them)


def degrade(image: np.ndarray, eye_px: float, variant: str) -> np.ndarray:
    """A poorer copy of ``image`` whose face had ``eye_px`` between the eyes."""
    target, blur, quality = DEGRADATIONS[variant]
    out = image
    scale = 1.0 if target is None else min(1.0, target / max(eye_px, 1e-6))
    if scale < 1.0:
        h, w = image.shape[:2]
        out = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    if blur > 0:
        sigma = blur * eye_px * scale
        out = cv2.GaussianBlur(out, (0, 0), sigmaX=sigma, sigmaY=sigma)
    if quality is not None:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok:
            out = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return out


def _pad(image: np.ndarray) -> np.ndarray:
    """Tight face chips give the detector no context: add a grey border around them."""
    h, w = image.shape[:2]
    m = max(h, w) // 3
    return cv2.copyMakeBorder(image, m, m, m, m, cv2.BORDER_CONSTANT, value=(128, 128, 128))


def _face(engine: FaceEngine, image: np.ndarray, gate: QualityGate):
    face = largest_face(describe_faces(engine, image, gate))
    if face is None:
        face = largest_face(describe_faces(engine, _pad(image), gate))
    return face


def embed_items(engine: FaceEngine, items: Iterable[tuple[str, Path]], variants: Iterable[str] = (),
                say: Callable[[str], None] = print, gate: QualityGate | None = None) -> tuple[list[Sample], dict]:
    """Embed (subject, image path) items clean and in each degraded variant.

    Returns the samples and counts of images/variants in which no face was found (those
    would never be searched live, so they are not probes)."""
    gate = gate or QualityGate()
    variants = list(variants)
    samples: list[Sample] = []
    missed: dict[str, int] = {"clean": 0, **{v: 0 for v in variants}}
    for subject, path in items:
        image = read_image(path)
        face = _face(engine, image, gate)
        if face is None:
            missed["clean"] += 1
            continue
        lm = np.asarray(face.detection.landmarks, dtype=np.float64)
        eye_px = float(np.linalg.norm(lm[1] - lm[0]))
        samples.append(Sample(subject, path.name, "clean", face.embedding, eye_px, face.quality.yaw,
                              face.quality.good, face.quality.reasons))
        for variant in variants:
            poor = _face(engine, degrade(image, eye_px, variant), gate)
            if poor is None:
                missed[variant] += 1
                continue
            plm = np.asarray(poor.detection.landmarks, dtype=np.float64)
            samples.append(Sample(subject, path.name, variant, poor.embedding, float(np.linalg.norm(plm[1] - plm[0])),
                                  poor.quality.yaw, poor.quality.good, poor.quality.reasons))
    return samples, missed


def _need(directory: Path, what: str) -> Path:
    if not directory.is_dir():
        raise MediaError(f"{what} not found at {directory}: {TEST_SETS_NEEDED}")
    return directory


def congress_items(data_dir: Path) -> list[tuple[str, Path]]:
    """One portrait each of distinct people: the subject is the Bioguide ID."""
    images = _need(data_dir / CONGRESS / "images", "the congress portraits")
    return [(p.stem, p) for p in sorted(images.glob("*.jpg"))]


def johns_items(data_dir: Path) -> list[tuple[str, Path]]:
    """Five people, eleven photos each."""
    root = _need(data_dir / JOHNS, "the dlib johns")
    return [(d.name, p) for d in sorted(root.iterdir()) if d.is_dir() for p in sorted(d.glob("*.jpg"))]


def deepface_pairs(data_dir: Path) -> list[tuple[str, str, bool]]:
    from console.services.accuracy.evaluation import read_pairs

    return read_pairs(_need(data_dir / DEEPFACE, "the deepface pairs") / "master.csv")


def deepface_items(data_dir: Path) -> tuple[list[tuple[str, Path]], list[tuple[str, str, bool]]]:
    """Every image named in the pairs (subject = file name: identities are only known by the pairs)."""
    pairs = deepface_pairs(data_dir)
    names = sorted({n for a, b, _ in pairs for n in (a, b)})
    return [(n, data_dir / DEEPFACE / n) for n in names], pairs


# -- scoring ----------------------------------------------------------------------------
def matrix(samples: list[Sample]) -> np.ndarray:
    return np.stack([s.embedding for s in samples]).astype(np.float32) if samples else np.zeros((0, 128), np.float32)


def fpir_observed(probe_emb: np.ndarray, probe_subject: list[str], gallery_emb: np.ndarray,
                  gallery_subject: list[str], n_entries: int, threshold: float, rng: np.random.Generator,
                  draws: int = 4) -> tuple[int, int, np.ndarray]:
    """False alerts among non-mated probes against random galleries of ``n_entries`` others.

    Each probe is searched against ``draws`` random watchlists of people who are not the
    probe; returns (alerts, searches, max score per search)."""
    scores = probe_emb @ gallery_emb.T
    gsub = np.array(gallery_subject)
    maxima = []
    for i, subj in enumerate(probe_subject):
        others = np.flatnonzero(gsub != subj)
        k = min(n_entries, len(others))
        for _ in range(draws):
            pick = rng.choice(others, size=k, replace=False)
            maxima.append(float(scores[i, pick].max()))
    m = np.array(maxima)
    return int((m >= threshold).sum()), len(m), m


@dataclass(frozen=True)
class GenuineProbe:
    subject: str
    enrolled: np.ndarray  # the watchlist photo (clean)
    probe: Sample  # another photo of the same person (clean or degraded)


def genuine_probes(johns: list[Sample], deep: list[Sample], pairs: list[tuple[str, str, bool]]) -> list[GenuineProbe]:
    """Mated searches: johns enrol their first photo and are probed with every other one (and its
    poorer copies); a deepface same-person pair enrols file_x and probes with file_y."""
    out: list[GenuineProbe] = []
    first: dict[str, Sample] = {}
    for s in johns:
        if s.variant == "clean" and s.subject not in first:
            first[s.subject] = s
    for s in johns:
        enrol = first.get(s.subject)
        if enrol is not None and s.source != enrol.source:
            out.append(GenuineProbe(s.subject, enrol.embedding, s))
    by_source: dict[str, list[Sample]] = {}
    for s in deep:
        by_source.setdefault(s.source, []).append(s)
    for a, b, same in pairs:
        if not same:
            continue
        enrol = next((s for s in by_source.get(a, []) if s.variant == "clean"), None)
        if enrol is None:
            continue
        for s in by_source.get(b, []):
            out.append(GenuineProbe("deepface:" + a, enrol.embedding, s))
    return out


def tpir_observed(probes: list[GenuineProbe], distractors: np.ndarray, n_entries: int, threshold: float,
                  rng: np.random.Generator) -> np.ndarray:
    """For each mated probe: did its own entry score at or above the threshold and first among a
    watchlist of ``n_entries`` (the mate plus n-1 distractor portraits)? Boolean per probe."""
    k = min(n_entries - 1, len(distractors))
    hits = np.zeros(len(probes), dtype=bool)
    for i, gp in enumerate(probes):
        mate = float(gp.probe.embedding @ gp.enrolled)
        pick = rng.choice(len(distractors), size=k, replace=False)
        best_other = float((distractors[pick] @ gp.probe.embedding).max()) if k else -1.0
        hits[i] = mate >= threshold and mate > best_other
    return hits


def _band(value: float, edges: list[float]) -> str:
    for lo, hi in zip(edges[:-1], edges[1:], strict=False):
        if lo <= value < hi:
            return f"{lo:g}-{hi:g}" if math.isfinite(hi) else f">={lo:g}"
    return f"<{edges[0]:g}"


EYE_BANDS = [12.0, 16.0, 24.0, 40.0, math.inf]
YAW_BANDS = [0.0, 10.0, 20.0, 40.0, math.inf]


def evaluate_watchlist(engine: FaceEngine, data_dir: Path | None, sizes: Iterable[int] = (100, 500, 2000),
                       target: float | None = None, variants: Iterable[str] | None = None, seed: int = 14,
                       say: Callable[[str], None] = print) -> dict:
    """Print TPIR and FPIR at the calibrated threshold for each watchlist size; return the figures."""
    from console.services.accuracy import calibration

    data_dir = public_sets_dir(data_dir)
    cal = calibration.load_for(engine.model_id)
    target = calibration.DEFAULT_TARGET if target is None else target
    calibration.check_target(target)
    variants = list(DEGRADATIONS) if variants is None else list(variants)
    sizes = [int(n) for n in sizes]
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    say(f"model={engine.model_id}; data from {data_dir} (public test sets, not shipped)")
    congress, miss_c = embed_items(engine, congress_items(data_dir), variants, say)
    johns, miss_j = embed_items(engine, johns_items(data_dir), variants, say)
    deep_items, pairs = deepface_items(data_dir)
    deep, miss_d = embed_items(engine, deep_items, variants, say)
    say(f"embedded {len(congress) + len(johns) + len(deep)} faces in {time.perf_counter() - started:.0f} s "
        f"(no face found: congress {sum(miss_c.values())}, johns {sum(miss_j.values())}, deepface "
        f"{sum(miss_d.values())} of the clean and degraded images)")

    gallery = [s for s in congress if s.variant == "clean"]
    g_emb, g_subj = matrix(gallery), [s.subject for s in gallery]
    # Non-mated probes: every congress face (clean portraits and their poorer copies) that the
    # quality gate would search, against watchlists of OTHER congress people.
    nonmated = [s for s in congress if s.passed]
    mated = [gp for gp in genuine_probes(johns, deep, pairs) if gp.probe.passed]
    say(f"watchlist pool: {len(gallery)} distinct people (one portrait each); non-mated probes: {len(nonmated)} "
        f"({len([s for s in nonmated if s.variant == 'clean'])} portraits + poorer copies of them, gate passed); "
        f"mated probes: {len(mated)} (dlib johns + deepface same-person pairs, clean and poorer copies)")
    pool = len(gallery) - 1
    say(f"N up to {pool} is measured (each probe is searched against random watchlists of N others); "
        f"beyond {pool} the FPIR is taken from the fitted impostor tail, FPIR = 1-(1-FMR(t))^N, and TPIR "
        f"is measured with all {pool} distractors (more distractors can only lower it slightly)")
    n_emb, n_subj = matrix(nonmated), [s.subject for s in nonmated]
    results: dict = {"model_id": engine.model_id, "target": target, "sizes": {}}
    say(f"{'N':>6} {'threshold':>9} {'TPIR':>6} {'FPIR measured':>22} {'FPIR fitted':>12} {'per 100k':>9} "
        f"| at {engine.default_threshold:.3f}: {'TPIR':>6} {'FPIR measured':>22}")
    for n in sizes:
        t = calibration.threshold_for(n, target, cal=cal)
        alerts, searches, _ = fpir_observed(n_emb, n_subj, g_emb, g_subj, n, t, rng)
        hits = tpir_observed(mated, g_emb, n, t, rng)
        alerts0, searches0, _ = fpir_observed(n_emb, n_subj, g_emb, g_subj, n, engine.default_threshold, rng)
        hits0 = tpir_observed(mated, g_emb, n, engine.default_threshold, rng)
        fitted = calibration.false_alerts_per_100k(t, n, cal=cal) / 1e5
        measured = f"{alerts}/{searches}" + ("" if n <= pool else f" (N={pool})")
        m0 = f"{alerts0}/{searches0}" + ("" if n <= pool else f" (N={pool})")
        say(f"{n:>6} {t:>9.3f} {hits.mean():>6.3f} {measured:>22} {fitted:>12.1e} {fitted * 1e5:>9.2f} "
            f"| {'':>9} {hits0.mean():>6.3f} {m0:>22}")
        results["sizes"][n] = {"threshold": t, "tpir": float(hits.mean()), "fpir_alerts": alerts,
                               "fpir_searches": searches, "fpir_fitted": fitted,
                               "tpir_at_default": float(hits0.mean()), "fpir_alerts_at_default": alerts0,
                               "fpir_searches_at_default": searches0}
    # Quality bands at the 2,000-entry threshold (or the largest size asked for).
    n_band = 2000 if 2000 in sizes else max(sizes)
    t = calibration.threshold_for(n_band, target, cal=cal)
    say(f"by quality band at the {n_band}-entry threshold {t:.3f} (TPIR measured with {min(n_band - 1, pool)} "
        f"distractors; FPIR measured as the highest score against {min(n_band, pool)} others, and how many of "
        f"those searches reach the threshold):")
    results["bands"] = {}
    for label, key, edges in (("eye distance px", "eye_px", EYE_BANDS), ("|yaw| deg", "yaw", YAW_BANDS)):
        def band_of(s: Sample, key=key, edges=edges) -> str:
            return _band(abs(getattr(s, key)), edges)
        names = sorted({band_of(s) for s in nonmated} | {band_of(gp.probe) for gp in mated},
                       key=lambda b: float(b.lstrip("<>=").split("-")[0]))
        for b in names:
            gps = [gp for gp in mated if band_of(gp.probe) == b]
            nms = [s for s in nonmated if band_of(s) == b]
            tp = tpir_observed(gps, g_emb, n_band, t, rng) if gps else np.zeros(0, bool)
            if nms:
                al, se, mx = fpir_observed(matrix(nms), [s.subject for s in nms], g_emb, g_subj, n_band, t, rng, 1)
                p99 = float(np.quantile(mx, 0.99))
            else:
                al, se, p99 = 0, 0, float("nan")
            tp_s = f"{tp.mean():.3f} of {len(gps)}" if len(gps) else "no probes"
            say(f"  {label:>15} {b:>7}: TPIR {tp_s:>14}; FPIR {al}/{se} (99th pct of best impostor score "
                f"{p99:.3f})")
            results["bands"][f"{key}:{b}"] = {"tpir": float(tp.mean()) if len(tp) else None, "mated": len(gps),
                                              "fpir_alerts": al, "fpir_searches": se}
    t2000 = calibration.threshold_for(2000, target, cal=cal)
    lo, hi = calibration.threshold_interval(2000, target, cal=cal)
    say(f"threshold for a 2,000-entry watchlist at {target:g} expected false alerts per face: {t2000:.3f} "
        f"(bootstrap 90% interval {lo:.3f}-{hi:.3f}); the model's published 1:1 threshold is "
        f"{engine.default_threshold:.3f}")
    results["threshold_2000"] = t2000
    say(f"seconds={time.perf_counter() - started:.0f}")
    return results

