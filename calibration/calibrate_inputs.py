"""What a calibration was measured from, and a cache of the measurement.

``calibrate.py`` records the identity of its inputs in the calibration file (a digest of each
data set's files, of each model file, of the code that finds and gates the faces, and the
library versions) and which faces the quality gate left out, so that ``--check`` can tell a
different copy of the data or another model from a changed pipeline and name the faces that
moved. The cache lets a second run skip the few minutes of embedding; its key is that same
identity, so it can never hide a change to the data, the model, the code or a library.
"""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path

import numpy as np

from console.vision.bundled import sha256_file  # the digest the model check uses

DATA_SETS = ("congress-portraits-dev", "deepface-pairs", "dlib-johns", "openface-webcam")
# The code between an image file and a gated embedding: a change here can move a face across a limit.
PIPELINE = ("console/vision", "console/services/accuracy/watchlist_eval.py", "console/media.py")
LIBRARIES = ("numpy", "scipy", "opencv-python-headless", "onnxruntime", "pillow")




def digest_folder(folder: Path) -> dict | None:
    """File count, bytes and one digest of every file's relative path, size and SHA-256 (None if absent)."""
    if not folder.is_dir():
        return None
    lines, total = [], 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        size = path.stat().st_size
        total += size
        lines.append(f"{path.relative_to(folder).as_posix()}\t{size}\t{sha256_file(path)}\n")
    return {"files": len(lines), "bytes": total, "sha256": hashlib.sha256("".join(lines).encode()).hexdigest()}


def _pipeline_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for name in PIPELINE:
        base = root / name
        for path in sorted(base.rglob("*.py")) if base.is_dir() else [base]:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def identity(data: Path, model_files: list[Path], root: Path) -> dict:
    return {
        "data": {name: digest_folder(data / name) for name in DATA_SETS},
        "model": {p.name: sha256_file(p) for p in model_files},
        "pipeline_sha256": _pipeline_digest(root),
        "software": {"python": platform.python_version(), **{n: _version(n) for n in LIBRARIES}},
    }


# -- which faces the gate left out ----------------------------------------------------------
def item_names(items: list[tuple[str, Path]]) -> list[str]:
    """Readable names of a set's images, in the order the faces are numbered (never shipped)."""
    return [p.name if subject in (p.name, p.stem) else f"{subject}/{p.name}" for subject, p in items]


def left_out(samples: list, items: list[tuple[str, Path]], variants: list[str]) -> dict:
    """Per variant: images in which no face was found, and faces outside the good-view limits (with why).

    Faces are numbered by their image's place in the set's sorted file list: the shipped file
    carries no image names, and the numbers mean the same images whenever the data digest matches."""
    index = {(subject, p.name): i for i, (subject, p) in enumerate(items)}
    found: dict[str, set] = {v: set() for v in ["clean", *variants]}
    not_good: dict[str, dict] = {v: {} for v in found}
    for s in samples:
        i = index[(s.subject, s.source)]
        found[s.variant].add(i)
        if not s.passed:
            not_good[s.variant][str(i)] = "; ".join(s.reasons)
    return {v: {"no_face": [i for i in range(len(items)) if i not in found[v]],
                "not_good": dict(sorted(not_good[v].items(), key=lambda kv: int(kv[0])))} for v in found}


# -- the cache ----------------------------------------------------------------------------
CACHE_FORMAT = 2  # raised whenever what save() keeps changes


def cache_path(folder: Path, ident: dict) -> Path:
    key = hashlib.sha256(json.dumps([CACHE_FORMAT, ident], sort_keys=True).encode()).hexdigest()[:16]
    return folder / f"calibrate_measure_{key}.npz"


def save(path: Path, m: dict) -> None:
    arrays, meta = {}, {"pairs": m["pairs"], "missed": m["missed"], "left_out": m["left_out"],
                        "webcam_left_out": m["webcam_left_out"], "names": m["names"], "samples": {}}
    for k in ("congress", "johns", "deep"):
        arrays[f"{k}_emb"] = np.stack([s.embedding for s in m[k]])  # dtype kept: a cached run scores alike
        meta["samples"][k] = [[s.subject, s.source, s.variant, s.eye_px, s.yaw, s.passed, list(s.reasons)]
                              for s in m[k]]
    if m["webcam"] is not None:
        arrays["webcam"] = m["webcam"]
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, meta=np.array(json.dumps(meta)), **arrays)


def load(path: Path, sample_type) -> dict | None:
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        m = {k: meta[k] for k in ("missed", "left_out", "webcam_left_out", "names")}
        m["pairs"] = [tuple(p) for p in meta["pairs"]]
        m["webcam"] = z["webcam"] if "webcam" in z else None
        for k, rows in meta["samples"].items():
            emb = z[f"{k}_emb"]
            m[k] = [sample_type(r[0], r[1], r[2], emb[i], r[3], r[4], r[5], tuple(r[6])) for i, r in enumerate(rows)]
    return m


def cached(folder: Path | None, ident: dict, measure, sample_type) -> dict:
    """``measure()``, kept in ``folder`` under the inputs' identity (a changed input misses the cache)."""
    path = cache_path(folder, ident) if folder else None
    m = load(path, sample_type) if path else None
    if m is not None:
        print(f"measurement read from {path} (same data, model, pipeline code and libraries)", flush=True)
        return m
    m = measure()
    if path:
        save(path, m)
    return m
