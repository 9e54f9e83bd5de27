"""How many faces are searched and how many dropped, and do enrolled people still match?

Two checks on the public test sets in ``../shared/data`` (read, never shipped), run through the
live recogniser (tracks, quality gate, alert rule) exactly as ``scan`` runs it:

* walks: each of the five dlib johns is enrolled with his first photo, among the 510 congress
  portraits as distractors (515 entries; threshold calibrated for that size). His ten other
  photos are then shown one after the other for a second each (analysed 4 times a second, moved
  by up to 3 px each time) at one place on a grey 640x480 frame, made poorer as live small faces
  are: downscaled so the eyes are about ``--eye`` px apart (varying by +-1.5 px from frame to
  frame), blurred, and in a third walk also rolled by up to 20 deg. Counted: faces
  detected, searched, dropped by the quality gate, alerts on the right person and on anyone else.
* webcam: ``scan`` of the real webcam GIF (two people on no list) against the 510 portraits.

Only APIs that existed before the per-track decisions are used, so the same file measures the
code before and after a change (copy it into the other checkout and run it there)::

    python calibration/coverage_check.py [--data DIR] [--eye 10]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from console.media import read_image  # noqa: E402
from console.pipeline.gallery import Gallery  # noqa: E402
from console.pipeline.recognizer import CameraRecognizer, RecognizerSettings  # noqa: E402
from console.services.accuracy import calibration  # noqa: E402
from console.services.accuracy import watchlist_eval as wl  # noqa: E402
from console.vision.engine import describe_faces, largest_face, load_engine  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
FRAMES_PER_PHOTO, FRAME_S = 4, 0.25  # each photo stays 1 s in view, analysed 4 times, each time a little moved
WALKS = {"small": (0.0, 0.0), "small+blur": (0.03, 0.0), "small+blur+rolled": (0.03, 20.0)}


def _face(engine, image):
    m = max(image.shape[:2]) // 3
    return largest_face(describe_faces(engine, cv2.copyMakeBorder(image, m, m, m, m, cv2.BORDER_CONSTANT,
                                                                  value=(128, 128, 128))))


def view(image: np.ndarray, eye_px: float, target: float, blur: float, roll: float,
         shift: tuple[int, int] = (0, 0)) -> np.ndarray:
    """The photo made a live-like small face, pasted at a fixed place on a grey frame."""
    scale = target / eye_px
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if blur > 0:
        small = cv2.GaussianBlur(small, (0, 0), blur * target)
    if roll:
        h, w = small.shape[:2]
        small = cv2.warpAffine(small, cv2.getRotationMatrix2D((w / 2, h / 2), roll, 1.0), (w, h),
                               borderMode=cv2.BORDER_REPLICATE)
    frame = np.full((480, 640, 3), 128, np.uint8)
    h, w = small.shape[:2]
    y, x = 240 - h // 2 + shift[1], 320 - w // 2 + shift[0]
    frame[y:y + h, x:x + w] = small
    return frame


def walks(engine, data: Path, eye: float) -> dict:
    congress = [(s, p) for s, p in wl.congress_items(data)]
    johns = wl.johns_items(data)
    rows, names = [], {}
    for subject, path in congress:
        face = _face(engine, read_image(path))
        if face is not None:
            names[len(names) + 1] = subject
            rows.append(face.embedding)
    people: dict[str, list[Path]] = {}
    for subject, path in johns:
        people.setdefault(subject, []).append(path)
    for subject, paths in people.items():
        names[len(names) + 1] = subject
        rows.append(_face(engine, read_image(paths[0])).embedding)
    ids = np.arange(1, len(rows) + 1)
    gallery = Gallery(np.stack(rows), ids, ids)
    n_congress = len(rows) - len(people)
    # the same walks against the portraits alone: the walkers are on no list, any alert is false
    strangers = Gallery(np.stack(rows[:n_congress]), ids[:n_congress], ids[:n_congress])
    threshold = calibration.threshold_for(len(rows))
    rng = np.random.default_rng(10)
    out = {"entries": len(rows), "threshold": round(threshold, 4)}
    for walk, (blur, roll) in WALKS.items():
        counts = {"faces": 0, "searched": 0, "dropped": 0, "right": 0, "wrong": 0, "people_alerted": 0,
                  "decided_on_several_views": 0, "alerts_when_not_enrolled": 0}
        for subject, paths in people.items():
            alerts, false = [], []
            rec = CameraRecognizer(engine, gallery, deployment_id=0, camera_id=0,
                                   settings=RecognizerSettings(threshold=threshold),
                                   write_alert=lambda r, alerts=alerts: alerts.append(r) or len(alerts))
            unlisted = CameraRecognizer(engine, strangers, deployment_id=0, camera_id=0,
                                        settings=RecognizerSettings(threshold=threshold),
                                        write_alert=lambda r, false=false: false.append(r) or len(false))
            n = 0
            for path in paths[1:]:
                image = read_image(path)
                face = _face(engine, image)
                if face is None:
                    continue
                lm = face.detection.landmarks
                eye_now = float(np.linalg.norm(lm[1] - lm[0]))
                for _ in range(FRAMES_PER_PHOTO):
                    angle = float(rng.uniform(-roll, roll)) if roll else 0.0
                    shift = (int(rng.integers(-3, 4)), int(rng.integers(-3, 4)))
                    frame = view(image, eye_now, eye + float(rng.uniform(-1.5, 1.5)), blur, angle, shift)
                    at = 100.0 + n * FRAME_S
                    result = rec.process(frame, at, n)
                    unlisted.process(frame, at, n)
                    n += 1
                    counts["faces"] += len(result.faces)
                    counts["searched"] += result.embedded
                    counts["dropped"] += result.gated
            got = [names[a.candidates[0][0]] for a in alerts]
            counts["right"] += sum(g == subject for g in got)
            counts["wrong"] += sum(g != subject for g in got)
            counts["people_alerted"] += int(subject in got)
            counts["decided_on_several_views"] += sum(not a.quality.get("strong_view", True) for a in alerts)
            counts["alerts_when_not_enrolled"] += len(false)
        out[walk] = counts
        print(f"walk {walk:>18} (eyes ~{eye:g} px): {json.dumps(counts)}", flush=True)
    return out


def webcam(engine, data: Path) -> dict:
    from console.services.runtime.scan import load_watchlist_folder, operating_point, scan_video, settings_for

    wlist = load_watchlist_folder(engine, data / wl.CONGRESS / "images")
    threshold, _, _ = operating_point(engine, wlist, None)
    summary = scan_video(engine, data / "openface-webcam" / "youtube-web.gif", wlist, settings_for(threshold, 3),
                         lambda a: None)
    keep = ("frames", "faces", "faces_embedded", "faces_below_quality_gate", "alerts", "threshold")
    out = {k: summary[k] for k in keep}
    print(f"webcam GIF against {wlist.images} portraits: {json.dumps(out)}", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--eye", type=float, default=10.0, help="eye distance of the walks' views, px (default 10)")
    args = ap.parse_args(argv)
    engine = load_engine(threads=1)
    started = time.perf_counter()
    walks(engine, args.data, args.eye)
    webcam(engine, args.data)
    print(f"seconds={time.perf_counter() - started:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
