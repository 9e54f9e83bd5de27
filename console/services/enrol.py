"""Enrolment of a watchlist image: exactly one usable face, or a clear refusal."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from console.errors import MediaError
from console.pipeline.recognizer import encode_jpeg
from console.services.auth import Actor
from console.store import Store, repo
from console.vision.engine import FaceEngine, describe_faces


def enrol_image(store: Store, engine: FaceEngine, actor: Actor, entry_id: int, image: np.ndarray,
                label: str | Path = "image") -> int:
    """Store the photo with its embedding; refuse photos with no face or several faces."""
    actor.require("enrol")
    faces = describe_faces(engine, image)
    if not faces:
        raise MediaError(f"{label}: no face found; use a photo that shows the subject's face")
    if len(faces) > 1:
        sizes = sorted((f.detection.width for f in faces), reverse=True)
        if sizes[1] > 0.5 * sizes[0]:
            raise MediaError(f"{label}: {len(faces)} faces found; crop the photo to the subject alone")
    face = max(faces, key=lambda f: f.detection.width)
    if face.quality.score < 0.3:
        raise MediaError(f"{label}: the face is not fit for comparison ({'; '.join(face.quality.reasons)})")
    return repo.add_entry_image(store, entry_id, encode_jpeg(image, 92), face.embedding, engine.model_id,
                                face.quality.as_dict(), actor.username)
