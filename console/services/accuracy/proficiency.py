"""Proficiency sets: a force's own pairs of faces whose truth is known, for known-answer test alerts.

A supervisor loads a folder of photos and a truth CSV (``photo,person``; person is a pseudonymous
label). The folder is checked like a watchlist folder (console/services/setup/enrol.py): regular
files only, size and pixel limits, UTF-8, the columns, every photo present and showing one clear face.
Any bad row refuses the whole set, naming every bad row, and nothing is stored.

From the photos the set is made of pairs an operator will see as an alert: a probe made live-like (a
poorer copy, as the calibration uses: small, blurred or compressed - watchlist_eval.degrade - cropped
at a capture's size) beside a watchlist-style photo, with the model's score. Mated pairs show one
person in two different photos; non-mated pairs show two people, among them the *hard* ones (each
probe's highest-scoring other person, the pairs that come near a deployment's threshold) and some
drawn at random. The set is balanced (as many non-mated as mated) and holds at most MAX_ITEMS.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from console.clock import utcnow
from console.errors import ConsoleError
from console.media import read_image, read_regular_file
from console.pipeline.frames import encode_jpeg, face_in_probe, probe_crop
from console.services.accounts.auth import Actor
from console.services.accounts.permissions import Permission
from console.services.accuracy.watchlist_eval import degrade
from console.services.setup.enrol import check_photo
from console.store import Store, audit, ledger
from console.store import known_answer as db
from console.vision.engine import FaceEngine, describe_faces, largest_face
from console.vision.quality import QualityGate

COLUMNS = ("photo", "person")
MAX_CSV_BYTES = 1024 * 1024
MAX_PHOTOS = 1000
MAX_ITEMS = 200
PHOTO_MAX_SIDE = 1024  # the watchlist-style photo as stored (and embedded): enough for the adjudication view
# The live-like copies a probe is made from, tried in turn until the gate would search the face
# (watchlist_eval.DEGRADATIONS: eye distance in px, blur, JPEG quality).
LIVE_VARIANTS = ("eye20-jpeg30", "eye24-blur", "eye16", "jpeg10")
PROBE_JPEG_QUALITY = 85


class ProficiencyError(ConsoleError):
    """The proficiency set was refused; the message names every bad row."""


@dataclass(frozen=True)
class _Photo:
    name: str
    person: str
    jpeg: bytes
    embedding: np.ndarray
    eye_px: float  # between the eyes in the stored photo: how far a live-like copy shrinks


@dataclass(frozen=True)
class _Probe:
    photo: int  # index into the photos
    jpeg: bytes
    embedding: np.ndarray
    context_jpeg: bytes = b""  # the whole poorer copy: the "camera frame" the face was found in
    bbox: tuple = ()  # the face's box in it
    quality: str = "{}"  # as the pipeline's alert records it (the gate's measures and where the face is in the crop)


def _rows(csv_path: Path) -> tuple[list[tuple[int, str, str]], bytes]:
    data = read_regular_file(csv_path, MAX_CSV_BYTES, what="truth CSV")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProficiencyError(f"{csv_path} is not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ProficiencyError(f"{csv_path} lacks the column{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
                               f" (it needs {','.join(COLUMNS)}); nothing was stored")
    try:
        rows = [(n, (r["photo"] or "").strip(), (r["person"] or "").strip()) for n, r in enumerate(reader, start=2)]
    except csv.Error as exc:
        raise ProficiencyError(f"{csv_path} is not a well-formed CSV: {exc}; nothing was stored") from exc
    if len(rows) > MAX_PHOTOS:
        raise ProficiencyError(f"{csv_path} names {len(rows)} photos, more than the {MAX_PHOTOS} a set may hold")
    return rows, data


def _stored_size(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    scale = PHOTO_MAX_SIDE / max(h, w)
    if scale >= 1.0:
        return image
    return cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)


def _photos(engine: FaceEngine, folder: Path, csv_path: Path) -> tuple[list[_Photo], list[np.ndarray], str]:
    """Every photo checked; ProficiencyError naming every bad row if any is bad."""
    rows, csv_bytes = _rows(csv_path)
    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise ProficiencyError(f"{folder} is not a folder of photos; nothing was stored")
    source = hashlib.sha256(csv_bytes)
    photos: list[_Photo] = []
    images: list[np.ndarray] = []
    bad: list[str] = []
    seen: set[str] = set()
    for n, name, person in rows:
        try:
            if not name or not person:
                raise ProficiencyError("both photo and person are needed")
            if name in seen:
                raise ProficiencyError(f"photo {name!r} is listed twice")
            seen.add(name)
            path = (folder / name).resolve()
            if folder not in path.parents:
                raise ProficiencyError(f"photo {name!r} is outside the folder; photos must sit in it")
            image = _stored_size(read_image(path, within=folder))  # regular file, size and pixel limits
            face = check_photo(engine, image, name)  # one clear face, fit for a watchlist
            lm = np.asarray(face.detection.landmarks, dtype=np.float64)
            photos.append(_Photo(name, person, encode_jpeg(image, 92), np.asarray(face.embedding, np.float32),
                                 float(np.linalg.norm(lm[1] - lm[0]))))
            images.append(image)
            source.update(hashlib.sha256(name.encode()).digest() + hashlib.sha256(photos[-1].jpeg).digest())
        except ConsoleError as exc:
            bad.append(f"line {n}: {exc}")
    if bad:
        raise ProficiencyError(f"the set was refused, nothing was stored; {len(bad)} bad row"
                               f"{'s' if len(bad) > 1 else ''}: " + "; ".join(bad))
    people = {p.person for p in photos}
    if len(people) < 2 or not any(sum(p.person == who for p in photos) >= 2 for who in people):
        raise ProficiencyError("a set needs at least two people and two photos of one of them (a mated pair); "
                               "nothing was stored")
    return photos, images, source.hexdigest()


def _live_like(engine: FaceEngine, image: np.ndarray, photo_face_eye_px: float, gate: QualityGate):
    """The probe: the first poorer copy whose face the live gate would search, cropped like a capture."""
    for variant in LIVE_VARIANTS:
        poor = degrade(image, photo_face_eye_px, variant)
        face = largest_face(describe_faces(engine, poor, gate))
        if face is not None and face.quality.passed:
            box = np.asarray(face.detection.box)
            crop = probe_crop(poor, box)
            quality = {**face.quality.as_dict(), "probe_box": face_in_probe(poor.shape, box)}
            return (encode_jpeg(crop, PROBE_JPEG_QUALITY), np.asarray(face.embedding, np.float32),
                    encode_jpeg(poor, PROBE_JPEG_QUALITY), tuple(round(float(v), 1) for v in box), json.dumps(quality))
    return None


def _pairs(photos: list[_Photo], probes: list[_Probe], rng: np.random.Generator) -> list[tuple[_Probe, int, bool, bool]]:
    """(probe, photo index, mated, hard): one mated pair per probe whose person has another photo, then
    as many non-mated ones - each probe's highest-scoring other person first, the rest at random."""
    mated: list[tuple[_Probe, int, bool, bool]] = []
    hard: list[tuple[float, _Probe, int]] = []
    others: list[tuple[_Probe, int]] = []
    for probe in probes:
        me = photos[probe.photo]
        same = [i for i, p in enumerate(photos) if p.person == me.person and i != probe.photo]
        if same:  # the next photo of the same person (a different one for each probe)
            mated.append((probe, same[probe.photo % len(same)], True, False))
        diff = [i for i, p in enumerate(photos) if p.person != me.person]
        scores = [float(probe.embedding @ photos[i].embedding) for i in diff]
        top = int(np.argmax(scores))
        hard.append((scores[top], probe, diff[top]))
        others += [(probe, i) for i in diff if i != diff[top]]
    rng.shuffle(mated)
    mated = mated[:MAX_ITEMS // 2]
    want = len(mated)
    hard.sort(key=lambda h: -h[0])
    n_hard = min(len(hard), (want + 1) // 2)
    nonmated = [(probe, i, False, True) for _, probe, i in hard[:n_hard]]
    unused = others + [(probe, i) for _, probe, i in hard[n_hard:]]
    picks = rng.permutation(len(unused))[:max(0, want - n_hard)]
    nonmated += [(unused[k][0], unused[k][1], False, False) for k in picks]
    return mated + nonmated


def load_set(store: Store, engine: FaceEngine, supervisor: Actor, folder: Path, truth_csv: Path, name: str) -> dict:
    """Check the folder and CSV, make the pairs and store the set in one transaction (logged with its rows).

    Returns the counts: mated, non_mated, hard, refused_photos (photos with no live-like copy the gate
    would search: they serve only as watchlist-style photos) and the set's id."""
    supervisor.require(Permission.SUPERVISE_OPERATORS, store)
    name = (name or "").strip()
    if not name:
        raise ProficiencyError("a proficiency set needs a name")
    photos, images, source_sha256 = _photos(engine, Path(folder), Path(truth_csv))
    gate = QualityGate()
    probes: list[_Probe] = []
    for i, image in enumerate(images):
        made = _live_like(engine, image, photos[i].eye_px, gate)
        if made is not None:
            probes.append(_Probe(i, *made))
    refused = len(photos) - len(probes)
    pairs = _pairs(photos, probes, np.random.default_rng(int(source_sha256[:16], 16)))
    if not any(m for _, _, m, _ in pairs):
        raise ProficiencyError("no mated pair could be made: no photo of a person with two photos gave a live-like "
                               "copy the gate would search; nothing was stored")
    counts = {"mated": sum(1 for p in pairs if p[2]), "non_mated": sum(1 for p in pairs if not p[2]),
              "hard": sum(1 for p in pairs if p[3]), "refused_photos": refused, "photos": len(photos),
              "people": len({p.person for p in photos})}
    with store.transaction() as conn:
        set_id = db.insert_set(conn, name, engine.model_id, source_sha256, supervisor.user_id, utcnow())
        ids = []
        for probe, i, is_mated, is_hard in pairs:
            photo = photos[i]
            ids.append(db.insert_item(conn, set_id, is_mated, is_hard, photos[probe.photo].person, photo.person,
                                      probe.jpeg, probe.context_jpeg, json.dumps(list(probe.bbox)), probe.quality,
                                      photo.jpeg, photo.embedding.astype(np.float32).tobytes(),
                                      int(photo.embedding.shape[0]), float(probe.embedding @ photo.embedding)))
        audit.append(store, supervisor.username, "known_answer.set_loaded", "proficiency_set", set_id,
                     {"name": name, "model_id": engine.model_id, "source_sha256": source_sha256, **counts,
                      "rows": ledger.merged(ledger.of(conn, "proficiency_sets", id=set_id),
                                            ledger.of(conn, "proficiency_items", id=ids))})
    return {"set_id": set_id, **counts}


def list_sets(store: Store, actor: Actor) -> list[dict]:
    """The sets loaded (name, model, who and when, how many items and mated ones); no images."""
    actor.require(Permission.SUPERVISE_OPERATORS, store)
    return [{k: r[k] for k in ("id", "name", "model_id", "source_sha256", "loaded_by", "loaded_at", "items",
                               "mated_items")} for r in db.sets(store)]
