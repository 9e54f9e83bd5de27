"""``calibrate.py --check``: what differs between the committed calibration and a fresh one.

"counts differ" alone cannot tell a different copy of the data from a changed pipeline, so every
difference is named: the input (data set or model file, by digest), the count (data set, name,
committed and measured value), the faces that moved across a quality limit (and why), and the
fitted figures outside their tolerance. Plain dicts in, sentences out: no numpy, no engine, so a
unit test can check it in milliseconds.
"""

from __future__ import annotations

import json

# How far a refit may move a fitted figure and still count as the same calibration. The bootstrap
# intervals are 50 to 100 times wider (N = 2,000: 0.495-0.804); 0.002 is below a change an
# operator could see in the 3-decimal threshold shown to them.
TOLERANCE = {"threshold": 0.002, "tpir": 0.005, "u": 0.002, "xi": 0.02, "sigma_relative": 0.05}
# Which data set a count comes from (by its first key).
COUNT_SETS = {
    "congress_people": "congress-portraits-dev", "fit_half_people": "congress-portraits-dev",
    "report_half_people": "congress-portraits-dev", "congress_degraded_faces_searched": "congress-portraits-dev",
    "congress_degraded_faces_by_variant": "congress-portraits-dev", "clean_impostor_pairs": "congress-portraits-dev",
    "degraded_impostor_pairs": "congress-portraits-dev", "genuine_pairs": "dlib-johns + deepface-pairs",
    "no_face_found.congress": "congress-portraits-dev", "no_face_found.johns": "dlib-johns",
    "no_face_found.deepface": "deepface-pairs", "deepface_different_person_pairs": "deepface-pairs",
    "webcam_faces": "openface-webcam",
}
SHOW = 12  # names listed per group of moved faces; the rest are counted


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flat(v, key + "."))
        else:
            out[key] = v
    return out


def _set_of(count: str) -> str:
    for key in sorted(COUNT_SETS, key=len, reverse=True):
        if count == key or count.startswith(key + "."):
            return COUNT_SETS[key]
    return "calibration"


def input_differences(old: dict, new: dict) -> list[str]:
    """The model and the data: these must be the same for the comparison to mean anything."""
    out = []
    if old.get("model_id") != new.get("model_id"):
        out.append(f"model_id: committed {old.get('model_id')}, measured {new.get('model_id')}")
    was, now = old.get("inputs"), new.get("inputs", {})
    if not was:
        return [*out, "inputs: the committed file records no digests of its data and model "
                      "(written before calibrate.py recorded them), so a different data copy cannot be ruled out"]
    for name in sorted(set(was.get("model", {})) | set(now.get("model", {}))):
        a, b = was.get("model", {}).get(name), now.get("model", {}).get(name)
        if a != b:
            out.append(f"model file {name}: committed sha256 {str(a)[:16]}, measured {str(b)[:16]}")
    for name in sorted(set(was.get("data", {})) | set(now.get("data", {}))):
        a, b = was.get("data", {}).get(name), now.get("data", {}).get(name)
        if a != b:
            def said(d):
                return "absent" if not d else f"{d['files']} files, {d['bytes']} bytes, sha256 {d['sha256'][:16]}"
            out.append(f"data set {name}: committed {said(a)}; measured {said(b)} - a different copy of the data")
    return out


def count_differences(old: dict, new: dict) -> list[str]:
    a, b = _flat(old.get("counts", {})), _flat(json.loads(json.dumps(new.get("counts", {}))))
    out = []
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            delta = ""
            if isinstance(a.get(key), int) and isinstance(b.get(key), int):
                delta = f" ({b[key] - a[key]:+d})"
            out.append(f"{_set_of(key)}: count {key}: committed {a.get(key)}, measured {b.get(key)}{delta}")
    return out


def _names(faces: list[str], names: list[str] | None) -> str:
    def one(i: str) -> str:
        return names[int(i)] if names and i.isdigit() and int(i) < len(names) else (f"#{i}" if i.isdigit() else i)
    more = f" and {len(faces) - SHOW} more" if len(faces) > SHOW else ""
    return ", ".join(one(i) for i in faces[:SHOW]) + more


def face_differences(old: dict, new: dict, names: dict[str, list[str]] | None = None) -> list[str]:
    """Faces searched now that the committed file left out, and the other way round, with why.

    The shipped file numbers faces by their image's place in the set's sorted file list (it holds
    no image names); ``names`` (set -> file names, read from the local data) turns them back into names."""
    was, now = old.get("faces_left_out"), new.get("faces_left_out", {})
    if not was:
        return []
    out = []
    for ds in sorted(k for k in set(was) | set(now) if k != "note"):
        a, b = was.get(ds, {}), now.get(ds, {})
        if ds == "openface-webcam":  # frame and face -> why; no variants
            a, b = {"clean": {"not_good": a}}, {"clean": {"not_good": b}}
        for variant in sorted(set(a) | set(b)):
            for kind, words in (("no_face", "no face found"), ("not_good", "outside the good-view limits")):
                ka, kb = a.get(variant, {}).get(kind, {}), b.get(variant, {}).get(kind, {})
                ka = ka if isinstance(ka, dict) else {str(i): "" for i in ka}
                kb = kb if isinstance(kb, dict) else {str(i): "" for i in kb}
                for moved, side, why, verb in (([i for i in ka if i not in kb], "committed", ka, "no longer"),
                                               ([i for i in kb if i not in ka], "measured", kb, "now")):
                    if not moved:
                        continue
                    reasons = sorted({why[i] for i in moved if why[i]})
                    said = f" ({side}: {'; '.join(reasons[:3])})" if reasons else ""
                    out.append(f"{ds} {variant}: {len(moved)} face(s) {verb} {words}: "
                               f"{_names(moved, (names or {}).get(ds))}{said}")
    return out


def fit_differences(old: dict, new: dict) -> list[str]:
    """The fitted tails and the table of thresholds, within TOLERANCE."""
    out = []
    rows = {r["n_entries"]: r for r in old.get("table", [])}
    for b in new.get("table", []):
        a = rows.get(b["n_entries"])
        if a is None:
            out.append(f"table N={b['n_entries']}: not in the committed file")
        elif (abs(a["threshold"] - b["threshold"]) > TOLERANCE["threshold"]
              or abs(a["tpir"] - b["tpir"]) > TOLERANCE["tpir"]):
            out.append(f"table N={b['n_entries']}: threshold committed {a['threshold']}, measured {b['threshold']} "
                       f"(tolerance {TOLERANCE['threshold']}); TPIR committed {a['tpir']}, measured {b['tpir']} "
                       f"(tolerance {TOLERANCE['tpir']})")
    for k, n in new.get("tails", {}).items():
        o = old.get("tails", {}).get(k)
        if o is None:
            out.append(f"{k} tail: not in the committed file")
            continue
        if (abs(o["u"] - n["u"]) > TOLERANCE["u"] or abs(o["xi"] - n["xi"]) > TOLERANCE["xi"]
                or abs(o["sigma"] - n["sigma"]) > TOLERANCE["sigma_relative"] * n["sigma"]):
            out.append(f"{k} tail: committed u {o['u']:.4f} sigma {o['sigma']:.4f} xi {o['xi']:.4f}, "
                       f"measured u {n['u']:.4f} sigma {n['sigma']:.4f} xi {n['xi']:.4f}")
    return out


def compare(old: dict, new: dict, names: dict[str, list[str]] | None = None) -> list[str]:
    """Every difference that fails ``--check``, each naming what differs and both values."""
    return input_differences(old, new) + count_differences(old, new) + face_differences(old, new, names) \
        + fit_differences(old, new)


def report(old: dict, new: dict) -> list[str]:
    """Context that does not fail the check: the pipeline code and library versions, and what they suggest."""
    was, now = old.get("inputs") or {}, new.get("inputs", {})
    out = []
    if was and was.get("pipeline_sha256") != now.get("pipeline_sha256"):
        out.append(f"pipeline code (console/vision, watchlist_eval, media) differs from when the file was written: "
                   f"committed {str(was.get('pipeline_sha256'))[:16]}, measured {str(now.get('pipeline_sha256'))[:16]}")
    for lib in sorted(set(was.get("software", {})) | set(now.get("software", {}))):
        a, b = was.get("software", {}).get(lib), now.get("software", {}).get(lib)
        if was and a != b:
            out.append(f"{lib}: committed {a}, measured {b}")
    if was and not input_differences(old, new) and count_differences(old, new):
        out.append("the data and the model files are the same as when the file was written: the counts moved "
                   "because the pipeline or a library changed, not the inputs")
    return out
