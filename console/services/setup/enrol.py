"""Watchlist governance and enrolment: who may be on a watchlist, and which photos may enrol.

Every entry carries a category from the fixed list, a legal basis, a reason, the source and
date of its photo, who added it and a review date; an under-18 entry needs a supervisor's
written justification; a deployment's watchlist has a cap (2,000 by default, the figure South
Wales Police worked to). Every photo is checked: no face, several faces, a face too small,
blurred or turned is refused with a sentence that says so; a face that looks like another
entry's is enrolled with a warning.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from console.domain import WatchlistCategory
from console.errors import ConsoleError, MediaError
from console.media import read_image, read_regular_file
from console.pipeline.frames import encode_jpeg
from console.redaction import redact
from console.services.accounts.auth import Actor
from console.services.accounts.permissions import Permission
from console.services.setup import deployment_setup, deployments, operating_point
from console.store import Store, repo
from console.store import watchlists as db
from console.vision.engine import FaceEngine, describe_faces
from console.vision.quality import QualityGate

DEFAULT_CAP = 2000
MAX_CSV_BYTES = 20 * 1024 * 1024  # 2,000 entries take a few hundred kilobytes
# Enrolment photos must be better than live probes: they are the reference every alert is
# judged against.
ENROLMENT_GATE = QualityGate(min_eye_distance_px=24.0, min_sharpness=40.0, max_yaw_deg=30.0, max_pitch_deg=30.0,
                             max_roll_deg=30.0, min_detector_score=0.7)


class GovernanceError(ConsoleError):
    """The entry or photo does not meet the watchlist rules."""


@dataclass
class EnrolResult:
    image_id: int
    warnings: list[str] = field(default_factory=list)


def _deployment_of_watchlist(store: Store, watchlist_id: int) -> int:
    row = db.deployment_of_watchlist(store, watchlist_id)
    if row is None:
        raise GovernanceError(f"watchlist {watchlist_id} does not exist")
    return int(row["deployment_id"])


def watchlist_id(store: Store, deployment_id: int) -> int:
    """The deployment's watchlist (the first one, where it has several)."""
    row = db.first_watchlist(store, deployment_id)
    if row is None:
        raise GovernanceError(f"deployment {deployment_id} has no watchlist")
    return int(row["id"])


def watchlist_entries(store: Store, actor: Actor, deployment_id: int) -> list[dict]:
    """The deployment's watchlist as a supervisor checks it: each entry's governance fields and
    how many of its photos are still held (no images leave here)."""
    actor.require(Permission.VIEW_WATCHLIST, store)
    rows = db.entries_checked(store, deployment_id)
    return [{**dict(r), "image_source": redact(r["image_source"])} for r in rows]  # a photo's URL may carry a token


def add_entry(store: Store, actor: Actor, watchlist_id: int, spec: repo.EntrySpec, amendment: str = "") -> int:
    """One entry. Once the deployment is authorised its watchlist is frozen: only a supervisor's
    ``amendment`` (a reason, logged with the old and new snapshot hash) adds to it."""
    actor.require(Permission.ENROL, store)
    dep_id = _deployment_of_watchlist(store, watchlist_id)
    deployments.ensure_writable(store, dep_id)
    check_spec(actor, spec)
    cap = int(repo.get_setting(store, f"deployment/{dep_id}", "watchlist_cap", DEFAULT_CAP))
    count = db.active_entry_count(store, dep_id)
    if count >= cap:
        raise GovernanceError(f"the watchlist of this deployment is at its cap of {cap} entries")
    with deployment_setup.watchlist_change(store, actor, dep_id, amendment):
        return repo.add_entry(store, watchlist_id, spec, actor.user_id, actor.username)


def check_spec(actor: Actor, spec: repo.EntrySpec) -> None:
    """Every governance field present and sound (for a new entry and an edited one alike)."""
    if spec.category not in WatchlistCategory.codes():
        raise GovernanceError(f"category {spec.category!r} is not on the fixed list: {', '.join(WatchlistCategory.codes())}")
    for name in ("record_number", "subject_name", "legal_basis", "reason", "image_source", "image_date", "review_date"):
        if not str(getattr(spec, name)).strip():
            raise GovernanceError(f"a watchlist entry needs its {name.replace('_', ' ')}")
    try:
        image_date = date.fromisoformat(spec.image_date[:10])
        review = date.fromisoformat(spec.review_date[:10])
    except ValueError as exc:
        raise GovernanceError(f"dates are written YYYY-MM-DD: {exc}") from exc
    if image_date > date.today():
        raise GovernanceError("the photo's date is in the future")
    if review <= date.today():
        raise GovernanceError("the review date must be in the future")
    if spec.under_18 and (not actor.may(Permission.ENROL_UNDER_18) or len(spec.under_18_justification.strip()) < 20):
        raise GovernanceError("an entry for someone under 18 needs a supervisor's written justification "
                              "(at least a sentence)")


def check_photo(engine: FaceEngine, image: np.ndarray, label: str | Path = "photo"):
    """The one usable face of an enrolment photo, or GovernanceError saying what is wrong."""
    faces = describe_faces(engine, image, ENROLMENT_GATE)
    if not faces:
        raise MediaError(f"{label}: no face found; use a photo that shows the subject's face")
    faces.sort(key=lambda f: f.detection.width, reverse=True)
    if len(faces) > 1 and faces[1].detection.width > 0.5 * faces[0].detection.width:
        raise MediaError(f"{label}: {len(faces)} faces found; crop the photo to the subject alone")
    face = faces[0]
    if not face.quality.good:
        raise MediaError(f"{label}: not fit for a watchlist - {'; '.join(face.quality.reasons)}")
    return face


def enrol_image(store: Store, engine: FaceEngine, actor: Actor, entry_id: int, image: np.ndarray,
                label: str | Path = "image") -> int:
    return enrol_photo(store, engine, actor, entry_id, image, label).image_id


def enrol_photo(store: Store, engine: FaceEngine, actor: Actor, entry_id: int, image: np.ndarray,
                label: str | Path = "photo", amendment: str = "") -> EnrolResult:
    actor.require(Permission.ENROL, store)
    entry = db.entry_to_enrol(store, entry_id)
    if entry is None:
        raise GovernanceError(f"watchlist entry {entry_id} does not exist")
    deployments.ensure_writable(store, int(entry["deployment_id"]))
    face = check_photo(engine, image, label)
    warnings = []
    rows = repo.gallery_rows(store, int(entry["deployment_id"]), engine.model_id)
    if rows.matrix.size:
        scores = rows.matrix @ face.embedding
        for i in np.argsort(-scores)[:3]:
            if int(rows.entry_ids[i]) != entry_id and scores[i] >= engine.default_threshold:
                other = db.record_number_of(store, int(rows.entry_ids[i]))

                warnings.append(f"{label}: looks like the same person as entry {other['record_number']} "
                                f"(similarity {scores[i]:.2f}); check this is not a duplicate")
    with deployment_setup.watchlist_change(store, actor, int(entry["deployment_id"]), amendment), store.transaction():
        image_id = repo.add_entry_image(store, entry_id, encode_jpeg(image, 92), face.embedding, engine.model_id,
                                        {**face.quality.as_dict(),  # where the face is: the review frames it
                                         "face_box": [round(float(v), 1) for v in face.detection.box]},
                                        actor.username)
        # One more photo a passer-by may match: the calibrated floor may rise past the threshold.
        raised = operating_point.hold_floor(store, int(entry["deployment_id"]), actor.username,
                                            f"the watchlist grew (photo of {entry['record_number']})")
    if raised is not None:
        warnings.append(f"{label}: the watchlist now needs a threshold of at least {raised:.3f} to keep false alerts "
                        "to its target; the threshold was raised to it (logged)")
    return EnrolResult(image_id, warnings)


CSV_COLUMNS = ("record_number", "subject_name", "category", "legal_basis", "reason", "image_source", "image_date",
               "review_date", "image")


def import_csv(store: Store, engine: FaceEngine, actor: Actor, watchlist_id: int, csv_path: Path) -> dict:
    """Entries and photos from a CSV (columns above; image = a path relative to the CSV).

    Every row is checked like a single entry; a bad row is reported and skipped, the rest go in.
    The CSV and its photos are read only if they are regular files (a FIFO, a device or a link out
    of the CSV's folder is refused, never opened to wait on), and a photo only if its header
    declares at most console.media.MAX_PIXELS pixels.
    """
    actor.require(Permission.ENROL, store)
    csv_path = Path(csv_path)
    data = read_regular_file(csv_path, MAX_CSV_BYTES, what="CSV file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GovernanceError(f"{csv_path} is not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise GovernanceError(f"{csv_path} lacks the columns {', '.join(missing)}")
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise GovernanceError(f"{csv_path} is not a well-formed CSV: {exc}") from exc
    added, refused, warnings = 0, [], []
    folder = csv_path.parent.resolve()
    for n, row in enumerate(rows, start=2):
        try:
            image_path = (folder / (row["image"] or "")).resolve()
            if folder not in image_path.parents:
                raise GovernanceError(f"image {row['image']!r} is outside the CSV's folder; photos must sit beside it")
            image = read_image(image_path, within=folder)  # a regular file, still inside once links are followed
            check_photo(engine, image, row["image"])
            spec = repo.EntrySpec(**{k: row[k] for k in CSV_COLUMNS if k != "image"})
            with store.transaction():
                entry = add_entry(store, actor, watchlist_id, spec)
                result = enrol_photo(store, engine, actor, entry, image, row["image"])
            warnings += result.warnings
            added += 1
        except ConsoleError as exc:
            refused.append(f"line {n}: {exc}")
    return {"added": added, "refused": refused, "warnings": warnings}


def import_csv_for_deployment(store: Store, engine: FaceEngine, actor: Actor, deployment_id: int,
                              csv_path: Path) -> dict:
    """``import_csv`` into the deployment's own watchlist."""
    actor.require(Permission.ENROL, store)
    return import_csv(store, engine, actor, watchlist_id(store, deployment_id), csv_path)


def add_entry_with_photo(store: Store, engine: FaceEngine, actor: Actor, deployment_id: int, spec: repo.EntrySpec,
                         image: np.ndarray, label: str | Path = "photo", amendment: str = "") -> tuple[int, EnrolResult]:
    """An entry of the deployment's watchlist and its first photo, in one transaction: an entry whose
    photo is refused is not kept (an entry with no photo matches nobody)."""
    with store.transaction():
        entry = add_entry(store, actor, watchlist_id(store, deployment_id), spec, amendment)
        return entry, enrol_photo(store, engine, actor, entry, image, label, amendment)
