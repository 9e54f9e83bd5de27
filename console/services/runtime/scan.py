"""Scan a video file against a watchlist folder, as fast as the machine allows.

The same recogniser as the live console (tracks, quality gate, one alert per track and
subject, re-alert window), driven frame by frame from the file. Nothing is written to
disk: alerts go to a callback (the CLI prints them as JSON lines).
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from console.domain import AlertRecord
from console.errors import MediaError
from console.feeds.capture import probe_video
from console.media import read_image
from console.pipeline.gallery import Gallery
from console.pipeline.recognizer import RecognizerSettings
from console.services.runtime.recognition import AlertSink, RecognitionPlan, build_recognizer
from console.vision.engine import FaceEngine, describe_faces

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


# Several photos of one subject are all kept and each is searched; a subject scores its best photo.
# A mean template would blur distinct looks (an older photo, a profile, glasses) into one that
# matches none of them well; keeping each photo keeps every look and costs one row each.
MULTI_PHOTO_RULE = "each photo is searched; a subject scores its best photo"


@dataclass(frozen=True)
class FolderWatchlist:
    gallery: object
    names: dict[int, str]  # entry id -> subject name
    images: int
    skipped: list[str] = field(default_factory=list)  # "photo: why", one per unusable photo
    without_photo: list[str] = field(default_factory=list)  # subjects none of whose photos could be used


def _images(folder: Path) -> list[Path]:
    """Every entry named like an image - not only the regular files: a FIFO or a device named
    like one is reported as skipped (by ``read_image``), not passed over in silence."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and not p.is_dir())


def _one_face(engine: FaceEngine, path: Path, folder: Path) -> np.ndarray:
    try:
        image = read_image(path, within=folder)  # a regular file inside the folder, of a size worth decoding
    except MediaError as exc:
        raise MediaError(f"watchlist image {exc}") from exc
    faces = describe_faces(engine, image)
    if not faces:
        raise MediaError(f"watchlist image {path}: no face found")
    faces.sort(key=lambda f: f.detection.width, reverse=True)
    if len(faces) > 1 and faces[1].detection.width > 0.5 * faces[0].detection.width:
        raise MediaError(f"watchlist image {path}: {len(faces)} faces found; crop it to the subject alone")
    return faces[0].embedding


def load_watchlist_folder(engine: FaceEngine, folder: Path) -> FolderWatchlist:
    """Subject name = file stem, or the sub-folder's name for a sub-folder of images. An unusable
    photo (unreadable, no face, several faces) is skipped with its reason; a subject left with no
    usable photo is reported; the scan goes on with the rest."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MediaError(f"watchlist folder {folder} does not exist")
    subjects: dict[str, list[Path]] = {}
    for path in _images(folder):
        subjects.setdefault(path.stem, []).append(path)
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        imgs = _images(sub)
        if imgs:
            subjects.setdefault(sub.name, []).extend(imgs)
    if not subjects:
        raise MediaError(f"watchlist folder {folder} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    rows, image_ids, entry_ids, names, skipped, without = [], [], [], {}, [], []
    for name, paths in sorted(subjects.items()):
        usable = []
        for path in paths:
            try:
                usable.append(_one_face(engine, path, folder))
            except MediaError as exc:
                skipped.append(str(exc))
        if not usable:
            without.append(name)
            continue
        entry_id = len(names) + 1
        names[entry_id] = name
        for embedding in usable:
            rows.append(embedding)
            image_ids.append(len(rows))
            entry_ids.append(entry_id)
    if not rows:
        raise MediaError(f"watchlist folder {folder}: no usable photo ({'; '.join(skipped[:3])}"
                         f"{'; ...' if len(skipped) > 3 else ''})")
    gallery = Gallery(np.stack(rows), np.array(image_ids), np.array(entry_ids))
    return FolderWatchlist(gallery, names, len(rows), skipped, without)


def check_video(video: Path) -> None:
    """MediaError, naming the file, unless OpenCV can open the video and it declares frames."""
    probe_video(video)


def operating_point(engine: FaceEngine, watchlist: FolderWatchlist, threshold: float | None) -> tuple[float, float, str]:
    """(threshold, floor, how the floor was set). The floor is the calibrated threshold for the
    folder's size - counted in photos, since each photo is a comparison a passer-by may match -
    at 1 false alert in 100,000 faces; a threshold below it, or not a number in [-1, 1), is refused.
    A model with no calibration falls back to its published 1:1 threshold, and says so."""
    from console.errors import ConsoleError, ModelError
    from console.services.accuracy import calibration

    try:
        floor = calibration.threshold_for(watchlist.images, cal=calibration.load_for(engine.model_id))
        how = (f"calibrated for {watchlist.images} watchlist photos at {calibration.DEFAULT_TARGET:g} false alerts per"
               " face (1 in 100,000)")
    except ModelError as exc:
        floor, how = engine.default_threshold, f"{exc}; the model's published 1:1 threshold is used, not a 1:N floor"
    if threshold is None:
        return floor, floor, how
    if not math.isfinite(threshold) or not -1.0 <= threshold < 1.0:
        raise ConsoleError(f"--threshold {threshold!r} is not a similarity between -1 and 1")
    if threshold < floor:
        raise ConsoleError(f"--threshold {threshold:g} is below the floor {floor:.3f} ({how}): at this watchlist's "
                           "size it would let passers-by through as matches")
    return threshold, floor, how


def settings_for(threshold: float, top_k: int) -> RecognizerSettings:
    return RecognizerSettings(threshold=threshold, top_k=top_k)


def _decode_ahead(cap, every: int, ahead: int = 8):
    """(index, frame) of every frame, decoded on a thread of its own a few frames ahead of the
    recognition (it overlaps the two on a machine of several cores); skipped frames come as None."""
    frames: queue.Queue = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def read() -> None:
        index = 0
        try:
            while not stop.is_set():
                if index % every:
                    ok, image = cap.grab(), None
                else:
                    ok, image = cap.read()
                if not ok:
                    break
                frames.put((index, image))
                index += 1
        except Exception as exc:  # handed to the scan, which raises it
            frames.put(exc)
        frames.put(None)

    reader = threading.Thread(target=read, name="scan-decode", daemon=True)
    reader.start()
    try:
        while (item := frames.get()) is not None:
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        stop.set()
        while reader.is_alive():  # let a reader blocked on a full queue see the stop
            try:
                frames.get(timeout=0.1)
            except queue.Empty:
                pass
        reader.join()


def scan_video(engine: FaceEngine, video: Path, watchlist: FolderWatchlist, settings: RecognizerSettings,
               on_alert: Callable[[dict], None], every: int = 1) -> dict:
    fps, count, size = probe_video(video)
    cap = cv2.VideoCapture(str(video))
    video_time = {"t": 0.0}
    alerts: list[dict] = []

    def write_alert(record: AlertRecord) -> int:
        entry, _, score = record.candidates[0]
        alert = {
            "alert": len(alerts) + 1,
            "subject": watchlist.names.get(entry, str(entry)),
            "score": round(float(score), 4),
            "frame": current["frame"],
            "time_s": round(current["frame"] / fps, 3),
            "bbox": [round(v, 1) for v in record.bbox],
            "track": record.track_id,
            "quality": round(float(record.quality.get("score", 0.0)), 3),
            "margin": record.quality.get("margin", 0.0),  # how much higher than the threshold this view had to be
            "track_score": record.quality.get("track_score"),  # the track's evidence (console/pipeline/evidence.py)
            "views": record.quality.get("views"),
            "candidates": [{"subject": watchlist.names.get(e, str(e)), "score": round(float(s), 4)}
                           for e, _, s in record.candidates],
        }
        alerts.append(alert)
        on_alert(alert)
        return alert["alert"]

    plan = RecognitionPlan(watchlist.gallery, settings, watchlist.names)
    sink = AlertSink(write_alert=write_alert, keeps_context=False)  # a scan keeps no image
    recognizer = build_recognizer(engine, plan, sink, deployment_id=0, camera_id=0,
                                  clock=lambda: video_time["t"])
    current = {"frame": 0}
    frames = analysed = faces = 0
    started = time.perf_counter()
    decoded = _decode_ahead(cap, every)
    try:
        for index, image in decoded:
            frames = index + 1
            if image is None:  # a frame skipped by ``every``: decoded (the codec needs it), not analysed
                continue
            current["frame"] = index
            video_time["t"] = index / fps
            result = recognizer.process(image, index / fps, index)
            analysed += 1
            faces += len(result.faces)
    finally:
        decoded.close()
        cap.release()
    if frames == 0:
        raise MediaError(f"video {video} holds no decodable frame")
    elapsed = time.perf_counter() - started
    embedded, gated, _ = recognizer.stats.take()
    return {
        "frames": frames,
        "frames_analysed": analysed,
        "faces": faces,
        "faces_embedded": embedded,
        "faces_below_quality_gate": gated,
        "alerts": len(alerts),
        "subjects_alerted": sorted({a["subject"] for a in alerts}),
        "seconds": round(elapsed, 2),
        "fps": round(analysed / elapsed, 1) if elapsed else 0.0,
        "video_fps": round(fps, 2),
        "video_size": list(size),
        "faster_than_real_time": round((frames / fps) / elapsed, 2) if elapsed else None,
        "threshold": settings.threshold,
        "model": engine.model_id,
    }
