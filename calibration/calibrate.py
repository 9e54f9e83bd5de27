"""Reproducible calibration of the bundled model's operating points (``resources/models/calibration.json``).

With a watchlist of N entries a passer-by raises a false alert when they score at or above
the threshold against ANY entry: FPIR(t, N) = 1 - (1 - FMR(t))^N, about N x FMR(t). This
script measures the bundled engine's impostor scores on real, distinct people and fits
the far tail of FMR(t) so the console can set the threshold for a target false-alert rate
at a deployment's watchlist size (``console/services/accuracy/calibration.py``).

Data (read from ``../shared/data`` or ``--data DIR``; never shipped - only the derived
numbers below are):

* congress-portraits-dev: 510 distinct people, one portrait each. Impostor scores of every
  pair of portraits ("clean"), and of poorer, live-like copies of each portrait (smaller down
  to the quality gate's 12 px eye distance, blurred near the gate's sharpness limit,
  JPEG-compressed; only those the quality gate would search) against every OTHER person's
  portrait ("degraded").
* deepface-pairs (different-person pairs: a check; same-person pairs: genuine scores) and
  dlib-johns (5 people x 11 photos: genuine scores), clean and degraded.
* openface-webcam (real webcam footage of two people who are on no list): a check only.

Method: the identities of the congress set are split at random (seed below) into a FIT half
and a REPORT half. On the fit half, for the clean and the degraded impostor scores
separately, a generalized Pareto distribution is fitted by maximum likelihood to the
exceedances over the 99th percentile (peaks over threshold). The report half checks the
fits against observed rates where the data reaches. Uncertainty: 200 bootstrap replicates
that resample the fit half's identities with replacement (all pairs of a resampled identity
move together) and refit. The operating tail is the worse (higher FMR) of the clean and
degraded fits at every score.

Run from the repository root::

    python calibration/calibrate.py            # measure, fit, write resources/models/calibration.json
    python calibration/calibrate.py --check    # measure and fit again, compare with the committed file
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import genpareto

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import calibrate_inputs as inputs  # noqa: E402  (beside this script)
from calibrate_checks import _json_ready, genuine_scores, validate  # noqa: E402
from calibrate_compare import compare, report  # noqa: E402

from console.services.accuracy import calibration as cal_service  # noqa: E402
from console.services.accuracy import watchlist_eval as wl  # noqa: E402
from console.vision.bundled import verify_bundled  # noqa: E402
from console.vision.engine import describe_faces, load_engine  # noqa: E402
from console.vision.quality import QualityGate  # noqa: E402

OUT = ROOT / "resources" / "models" / cal_service.CALIBRATION
DATA = ROOT.parent / "shared" / "data"
SPLIT_SEED = 14
BOOT_SEED = 1014
BOOT_REPS = 200
TAIL_QUANTILE = 0.99
SENSITIVITY_QUANTILES = (0.98, 0.99, 0.995, 0.999)
TABLE_N = (100, 500, 1000, 2000, 10000)
TARGET = cal_service.DEFAULT_TARGET
TMR_GRID = np.round(np.arange(0.20, 0.8001, 0.005), 3)
PUBLISHED_THRESHOLD = 0.363

SOURCES = {
    "congress-portraits-dev": {
        "what": "official portraits of members of the US Congress (IDs A-L), 225x275 JPEG, one person each",
        "source": "github.com/Hainish/congress-images-225x275 @ 20531e981f99cd8fd42023d3e71000582f2e04c2 "
                  "(thumbnails of github.com/unitedstates/images: GPO Congressional Pictorial Directory and Bioguide)",
        "licence": "works of the US federal government, public domain",
    },
    "deepface-pairs": {
        "what": "labelled verification pairs (master.csv) of public photos of well-known people",
        "source": "github.com/serengil/deepface tests/unit/dataset @ 243209fd7b46",
        "licence": "MIT (deepface project)",
    },
    "dlib-johns": {
        "what": "5 people x 11 aligned 150x150 face chips",
        "source": "github.com/davisking/dlib examples/johns @ 3d40bf5790ca9073c160cebb898800d9f33e12ab",
        "licence": "Boost Software License 1.0 (dlib example files; the photos' own origin is not stated)",
    },
    "openface-webcam": {
        "what": "real webcam footage (GIF, 320x240, 90 frames) of two people on no watchlist",
        "source": "github.com/cmusatyalab/openface images/youtube-web.gif @ 051475225b5ae335918621077313085bbb7ab5a0",
        "licence": "Apache-2.0 (repository licence)",
    },
}


# -- measuring ----------------------------------------------------------------------------
def webcam_faces(engine, data: Path) -> tuple[np.ndarray | None, dict]:
    """Embeddings of every good face (within the gate's good-view limits) in the webcam GIF (None when
    it or Pillow is missing), and the faces left out, by frame, with why."""
    path = data / "openface-webcam" / "youtube-web.gif"
    try:
        from PIL import Image, ImageSequence
    except ImportError:
        return None, {}
    if not path.is_file():
        return None, {}
    gate, embs, left = QualityGate(), [], {}
    with Image.open(path) as gif:
        for i, frame in enumerate(ImageSequence.Iterator(gif)):
            bgr = np.asarray(frame.convert("RGB"))[:, :, ::-1].copy()
            for j, rec in enumerate(describe_faces(engine, bgr, gate)):
                q = engine.assess(rec.detection, rec.crop, gate, bgr.shape)
                if q.good:
                    embs.append(rec.embedding)
                else:
                    left[f"frame {i:02d} face {j}"] = "; ".join(q.reasons)
    return (np.stack(embs) if embs else np.zeros((0, 128), np.float32)), left


def measure(engine, data: Path) -> dict:
    variants = list(wl.DEGRADATIONS)
    t0 = time.perf_counter()
    items = {"congress": wl.congress_items(data), "johns": wl.johns_items(data)}
    congress, miss_c = wl.embed_items(engine, items["congress"], variants)
    print(f"congress: {len(congress)} faces ({time.perf_counter() - t0:.0f} s)", flush=True)
    johns, miss_j = wl.embed_items(engine, items["johns"], variants)
    items["deep"], pairs = wl.deepface_items(data)
    deep, miss_d = wl.embed_items(engine, items["deep"], variants)
    cam, cam_left = webcam_faces(engine, data)
    print(f"all faces embedded in {time.perf_counter() - t0:.0f} s", flush=True)
    got = {"congress": congress, "johns": johns, "deep": deep}
    return {**got, "pairs": pairs, "webcam": cam, "webcam_left_out": cam_left,
            "missed": {"congress": miss_c, "johns": miss_j, "deepface": miss_d},
            "left_out": {k: inputs.left_out(got[k], items[k], variants) for k in got},
            "names": {k: inputs.item_names(items[k]) for k in got}}


# -- fitting ------------------------------------------------------------------------------
class PairSet:
    """Impostor scores with the two identities (local indices) behind each score."""

    def __init__(self, scores: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
        order = np.argsort(scores, kind="stable")
        self.x, self.a, self.b = scores[order].astype(np.float64), a[order], b[order]

    def weights(self, w: np.ndarray) -> np.ndarray:
        return w[self.a] * w[self.b]


def fit_tail(ps: PairSet, w_pairs: np.ndarray, q: float = TAIL_QUANTILE) -> dict:
    """Generalized Pareto (MLE, location 0) on the exceedances over the weighted q-quantile."""
    keep = w_pairs > 0
    x, w = ps.x[keep], w_pairs[keep].astype(np.int64)
    cw = np.cumsum(w)
    total = int(cw[-1])
    u = float(x[min(np.searchsorted(cw, q * total), len(x) - 1)])
    exc = x > u
    y = np.repeat(x[exc] - u, w[exc])
    xi, _, sigma = genpareto.fit(y, floc=0)
    return {"u": u, "p_u": float(w[exc].sum() / total), "sigma": float(sigma), "xi": float(xi),
            "pairs": total, "exceedances": int(w[exc].sum())}


def below_table(ps: PairSet, w_pairs: np.ndarray, u: float) -> list[list[float]]:
    keep = w_pairs > 0
    x, w = ps.x[keep], w_pairs[keep]
    total = w.sum()
    out = []
    for t in np.round(np.arange(0.10, u, 0.01), 2):
        out.append([float(t), float(w[x >= t].sum() / total)])
    return out


def tail(d: dict, below: list | None = None) -> cal_service.Tail:
    return cal_service.Tail.from_dict({**d, "below_u": below or []})


def build(m: dict, data: Path, model_id: str, ident: dict) -> dict:
    gate_note = "gate-passing faces only (the default QualityGate: eye distance >= 12 px, sharpness >= 20, pose)"
    congress = m["congress"]
    clean = [s for s in congress if s.variant == "clean"]
    ids = [s.subject for s in clean]
    index = {s: i for i, s in enumerate(ids)}
    gal = wl.matrix(clean)
    n = len(ids)
    perm = np.random.default_rng(SPLIT_SEED).permutation(n)
    halves = {"fit": np.sort(perm[: n // 2]), "report": np.sort(perm[n // 2:])}
    degraded = [s for s in congress if s.variant != "clean" and s.passed]
    deg = wl.matrix(degraded)
    d_subj = np.array([index[s.subject] for s in degraded])

    def pairsets(members: np.ndarray) -> tuple[PairSet, PairSet]:
        local = {int(g): k for k, g in enumerate(members)}
        sims = gal[members] @ gal[members].T
        iu = np.triu_indices(len(members), 1)
        clean_ps = PairSet(sims[iu], iu[0], iu[1])
        rows = np.flatnonzero(np.isin(d_subj, members))
        sd = deg[rows] @ gal[members].T
        pa = np.array([local[int(s)] for s in d_subj[rows]])
        aa, bb = np.meshgrid(pa, np.arange(len(members)), indexing="ij")
        mask = aa != bb
        return clean_ps, PairSet(sd[mask], aa[mask], bb[mask])

    sets = {h: dict(zip(("clean", "degraded"), pairsets(mem), strict=True)) for h, mem in halves.items()}
    fit_sets = sets["fit"]
    ones = np.ones(len(halves["fit"]))
    tails, below = {}, {}
    for name, ps in fit_sets.items():
        w = ps.weights(ones)
        tails[name] = fit_tail(ps, w)
        below[name] = below_table(ps, w, tails[name]["u"])
        tails[name]["below_u"] = below[name]
        tails[name]["sensitivity"] = [{k: round(v, 5) if isinstance(v, float) else v
                                       for k, v in {"quantile": q, **fit_tail(ps, w, q)}.items()}
                                      for q in SENSITIVITY_QUANTILES]
        print(f"{name} tail (fit half): {({k: v for k, v in tails[name].items() if k not in ('below_u', 'sensitivity')})}")
    other = {name: fit_tail(ps, ps.weights(np.ones(len(halves["report"])))) for name, ps in sets["report"].items()}

    rng = np.random.default_rng(BOOT_SEED)
    reps = []
    t0 = time.perf_counter()
    for _ in range(BOOT_REPS):
        w = np.bincount(rng.integers(0, len(ones), len(ones)), minlength=len(ones)).astype(np.float64)
        rep = {}
        for name, ps in fit_sets.items():
            f = fit_tail(ps, ps.weights(w))
            rep[name] = [f["u"], f["p_u"], f["sigma"], f["xi"]]
        reps.append(rep)
    print(f"bootstrap: {BOOT_REPS} replicates in {time.perf_counter() - t0:.0f} s", flush=True)
    names = ["clean", "degraded"]
    point = [tail(tails[k], below[k]) for k in names]
    boot = [[tail(dict(zip(("u", "p_u", "sigma", "xi"), r[k], strict=True)), below[k]) for k in names] for r in reps]

    def op_fmr(tails_: list, t: float) -> float:
        return max(x.fmr(t) for x in tails_)

    def band(values: list[float]) -> list[float]:
        return [float(np.quantile(values, 0.05)), float(np.quantile(values, 0.95))]

    params = {k: {"xi": band([r[k][3] for r in reps]), "sigma": band([r[k][2] for r in reps]),
                  "u": band([r[k][0] for r in reps])} for k in names}

    # -- genuine scores ------------------------------------------------------------------
    gen = genuine_scores(m)
    tmr = {"grid": [float(t) for t in TMR_GRID]}
    for kind, sc in gen.items():
        tmr[kind] = [round(float((sc >= t).mean()), 5) for t in TMR_GRID]

    def summary(sc: np.ndarray) -> dict:
        return {"pairs": int(len(sc)), "mean": round(float(sc.mean()), 4),
                "quantiles": {str(q): round(float(np.quantile(sc, q)), 4) for q in (0.01, 0.05, 0.10, 0.25, 0.5)},
                "share_at_or_above_0.363": round(float((sc >= PUBLISHED_THRESHOLD).mean()), 4)}

    # -- the table -------------------------------------------------------------------------
    table = []
    for n_entries in TABLE_N:
        p = cal_service.per_entry_rate(n_entries, TARGET)
        t = max(x.score_at(p) for x in point)
        ts = [max(x.score_at(p) for x in rep) for rep in boot]
        t_other = max(tail(other[k]).score_at(p) for k in names)
        which = names[int(np.argmax([x.score_at(p) for x in point]))]
        table.append({"n_entries": n_entries, "target": TARGET, "per_entry_fmr": p, "threshold": round(t, 4),
                      "interval_90": [round(v, 4) for v in band(ts)], "set_by": which,
                      "threshold_if_fitted_on_report_half": round(t_other, 4),
                      "tpir": round(float((gen["degraded"] >= t).mean()), 4),
                      "tpir_clean": round(float((gen["clean"] >= t).mean()), 4),
                      "tpir_all": round(float((gen["all"] >= t).mean()), 4),
                      "fpir_per_100k_at_0.363": round(1e5 * cal_service.fpir(op_fmr(point, PUBLISHED_THRESHOLD),
                                                                              n_entries), 1)})
        print(f"N={n_entries:>6}: threshold {t:.3f} (90% {band(ts)[0]:.3f}-{band(ts)[1]:.3f}, set by {which}; "
              f"fitted on the report half {t_other:.3f}); TPIR {table[-1]['tpir']:.3f} live-like, "
              f"{table[-1]['tpir_clean']:.3f} clean")

    validation = validate(sets["report"], halves["report"], point, boot, gal, m, names)
    counts = {
        "congress_people": n, "fit_half_people": int(len(halves["fit"])), "report_half_people": int(len(halves["report"])),
        "congress_degraded_faces_searched": int(len(degraded)),
        "congress_degraded_faces_by_variant": {v: int(sum(1 for s in degraded if s.variant == v)) for v in wl.DEGRADATIONS},
        "clean_impostor_pairs": {h: int(len(sets[h]["clean"].x)) for h in sets},
        "degraded_impostor_pairs": {h: int(len(sets[h]["degraded"].x)) for h in sets},
        "genuine_pairs": {k: int(len(v)) for k, v in gen.items()},
        "no_face_found": m["missed"],
        "deepface_different_person_pairs": int(sum(1 for *_, same in m["pairs"] if not same)),
        "webcam_faces": None if m["webcam"] is None else int(len(m["webcam"])),
    }
    return {
        "format": cal_service.FORMAT,
        "model_id": model_id,
        "written_by": "calibration/calibrate.py",
        "published_threshold": PUBLISHED_THRESHOLD,
        "data": {k: {**v, "used_as": USED_AS[k]} for k, v in SOURCES.items()},
        "inputs": ident,
        "counts": counts,
        "faces_left_out": {"note": "per data set and variant: images with no face found, and faces outside the "
                                   "good-view limits with why (not searched at the plain threshold, so not counted)",
                           "congress-portraits-dev": m["left_out"]["congress"], "dlib-johns": m["left_out"]["johns"],
                           "deepface-pairs": m["left_out"]["deep"], "openface-webcam": m["webcam_left_out"]},
        "method": {
            "impostor_scores": {
                "clean": "every pair of two different people's portraits (cosine of the engine's embeddings)",
                "degraded": "a poorer copy of one person's portrait (" + ", ".join(wl.DEGRADATIONS) + ") against "
                            "every other person's clean portrait; " + gate_note,
            },
            "split": f"congress identities permuted with seed {SPLIT_SEED}: the first half FITS the tails, the "
                     "other half REPORTS (validation); pairs across the halves are not used",
            "tail": f"generalized Pareto (scipy.stats.genpareto MLE, location 0) on exceedances over the "
                    f"{TAIL_QUANTILE:g} quantile; FMR(t) = p_u (1 + xi (t-u)/sigma)^(-1/xi) above u, empirical below",
            "uncertainty": f"{BOOT_REPS} bootstrap replicates resampling the fit half's identities with replacement "
                           f"(seed {BOOT_SEED}); intervals are the 5th-95th percentiles",
            "operating_tail": "the worse (higher FMR) of the clean and degraded tails at every score",
            "watchlist": "FPIR(t, N) = 1 - (1 - FMR(t))^N: a face is compared with every entry; treating the N "
                         "comparisons as independent overstates FPIR when some faces score high against everyone "
                         "(Jensen), so it errs towards fewer false alerts than promised",
            "tpir": "'tpir' is for live-like (degraded) probes, 'tpir_clean' for clean photos: the share of "
                    "genuine scores (enrolment photo vs another photo of the same person, or a live-like copy of "
                    "it) at or above the threshold; rank among distractors is not required here "
                    "(eval-watchlist measures it with the congress portraits as distractors)",
        },
        "tails": tails,
        "tails_fitted_on_report_half": other,
        "operating_tail": {"tails": names, "rule": "max"},
        "parameter_intervals_90": params,
        "bootstrap": {"reps": BOOT_REPS, "order": ["u", "p_u", "sigma", "xi"],
                      "replicates": [{k: [round(v, 6) for v in r[k]] for k in names} for r in reps]},
        "genuine": {"summary": {k: summary(v) for k, v in gen.items()}, "tmr": tmr},
        "table": table,
        "validation": validation,
    }


USED_AS = {
    "congress-portraits-dev": "impostor scores (fit half / report half), distractors",
    "deepface-pairs": "genuine scores (same-person pairs); check of the impostor tail (different-person pairs)",
    "dlib-johns": "genuine scores",
    "openface-webcam": "check only: real webcam faces against all 510 portraits",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help=f"the public test sets (default {DATA})")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true", help="measure and fit again; compare with --out")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime threads (default 1)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="keep the measured faces in this folder, keyed by the inputs' identity (e.g. /tmp)")
    args = parser.parse_args(argv)
    if not (args.data / "congress-portraits-dev").is_dir():
        print(f"the calibration data is not there: {args.data} has no congress-portraits-dev "
              f"(it reads ../shared/data or --data DIR); nothing was measured", file=sys.stderr)
        return 2
    engine = load_engine(None, ["cpu"], threads=args.threads)
    files = verify_bundled()
    ident = inputs.identity(args.data, [files.detector, files.recogniser], ROOT)
    print(f"model {engine.model_id}; data {args.data}", flush=True)
    m = inputs.cached(args.cache, ident, lambda: measure(engine, args.data), wl.Sample)
    result = _json_ready(build(m, args.data, engine.model_id, ident))
    if args.check:
        if not args.out.is_file():
            print(f"{args.out} does not exist: nothing to compare with")
            return 1
        old = json.loads(args.out.read_text())
        names = {"congress-portraits-dev": m["names"]["congress"], "dlib-johns": m["names"]["johns"],
                 "deepface-pairs": m["names"]["deep"]}
        problems, info = compare(old, result, names), report(old, result)
        if info:
            print("differences that do not fail the check:\n  " + "\n  ".join(info))
        if problems:
            print(f"calibration differs from {args.out}:\n  " + "\n  ".join(problems))
            return 1
        print(f"calibration reproduces {args.out} (inputs the same; tails and table within tolerance)")
        return 0
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
