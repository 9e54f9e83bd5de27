"""Evaluation without a store: verification accuracy on labelled pairs (``eval-pairs``).

Open to anyone: it reads the files it is given and prints figures; nothing is kept.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from console.errors import MediaError
from console.media import read_image
from console.vision.engine import FaceEngine, describe_faces, largest_face


def read_pairs(csv_path: Path) -> list[tuple[str, str, bool]]:
    """(file_x, file_y, same person?) from a CSV with the columns file_x, file_y, Decision."""
    if not csv_path.is_file():
        raise MediaError(f"pairs file {csv_path} does not exist")
    with csv_path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        cols = {c.lower(): c for c in (reader.fieldnames or [])}
        if any(n not in cols for n in ("file_x", "file_y", "decision")):
            raise MediaError(f"{csv_path} needs the columns file_x, file_y, Decision; it has {reader.fieldnames}")
        pairs = [(r[cols["file_x"]], r[cols["file_y"]], r[cols["decision"]].strip().lower() in ("yes", "1", "true"))
                 for r in reader]
    if not pairs:
        raise MediaError(f"{csv_path} holds no pairs")
    return pairs


def eval_pairs(engine: FaceEngine, csv_path: Path, image_dir: Path, threshold: float | None,
               say: Callable[[str], None] = print) -> dict:
    """Accuracy at the model's own threshold (or the one given); the last line printed is
    ``accuracy=<0..1> threshold=<t> pairs=<n>``."""
    pairs = read_pairs(csv_path)
    if not image_dir.is_dir():
        raise MediaError(f"image folder {image_dir} does not exist")
    threshold = engine.default_threshold if threshold is None else threshold
    embeddings: dict[str, np.ndarray | None] = {}
    started = time.perf_counter()
    for name in sorted({n for a, b, _ in pairs for n in (a, b)}):
        face = largest_face(describe_faces(engine, read_image(image_dir / name)))
        embeddings[name] = None if face is None else face.embedding
        if face is None:
            say(f"no face found in {name}: its pairs count as 'different'")
    scores = np.array([
        float(embeddings[a] @ embeddings[b]) if embeddings[a] is not None and embeddings[b] is not None else -1.0
        for a, b, _ in pairs
    ])
    labels = np.array([same for _, _, same in pairs])
    acc = float(((scores >= threshold) == labels).mean())
    best_acc, best_t = max((float(((scores >= t) == labels).mean()), float(t)) for t in np.unique(scores))
    same, diff = scores[labels], scores[~labels]
    say(f"model={engine.model_id} images={len(embeddings)} seconds={time.perf_counter() - started:.1f}")
    say(f"same-person pairs={len(same)} mean score={same.mean():.3f}; different-person pairs={len(diff)} "
        f"mean score={diff.mean():.3f}")
    say(f"true matches={int((same >= threshold).sum())}/{len(same)} false matches={int((diff >= threshold).sum())}/"
        f"{len(diff)} at threshold {threshold:.3f}")
    say(f"for reference only (not used): best accuracy {best_acc:.3f} at threshold {best_t:.3f}")
    say(f"accuracy={acc:.4f} threshold={threshold:.3f} pairs={len(pairs)}")
    return {"accuracy": acc, "threshold": threshold, "pairs": len(pairs)}
