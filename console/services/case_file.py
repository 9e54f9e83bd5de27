"""An alert as a case file: its images and record as files in a folder, for the people who act
on it. Bystanders' faces in the context frame are blurred first - people who raised no alert do
not leave the console with it - and a frame that cannot be blurred does not leave at all. Every
export is a new, whole set of files, and is logged; a set the log does not hold is taken back."""

from __future__ import annotations

import json

from console.errors import ConsoleError
from console.exports import ExportError, target_in, write_new
from console.services import review
from console.services.auth import Actor
from console.store import Store, audit


def blur_bystanders(context_jpeg: bytes, bbox: list[float], engine) -> tuple[bytes, int]:
    """The context frame with every face but the alerted one made unrecognisable. Raises
    ExportError when that cannot be done (a frame that does not decode, a detector that fails):
    the caller must not then let the frame leave unblurred."""
    import cv2
    import numpy as np

    from console.pipeline.recognizer import encode_jpeg
    from console.pipeline.tracker import iou

    frame = cv2.imdecode(np.frombuffer(context_jpeg, np.uint8), cv2.IMREAD_COLOR)
    if frame is None or frame.ndim != 3 or frame.shape[2] != 3:
        raise ExportError("the context frame cannot be read as an image, so bystanders' faces in it cannot be"
                          " blurred; nothing was exported")
    target = np.array([bbox], dtype=np.float32)
    blurred = 0
    try:
        faces = engine.detect(frame)
    except (ConsoleError, ValueError, RuntimeError, cv2.error) as exc:
        raise ExportError(f"bystanders' faces could not be blurred: the face detector failed ({exc});"
                          " nothing was exported") from exc
    for det in faces:
        if iou(np.array([det.box]), target)[0, 0] >= 0.3:
            continue
        x1, y1, x2, y2 = (int(v) for v in det.box)
        pad = int(0.25 * max(x2 - x1, y2 - y1))
        x1, y1 = max(0, x1 - pad), max(0, y1 - pad)
        x2, y2 = min(frame.shape[1], x2 + pad), min(frame.shape[0], y2 + pad)
        region = frame[y1:y2, x1:x2]
        # A flat ellipse of the region's own mean colour over a heavy blur: nothing of the face
        # survives (a detector finds no face there afterwards), the scene still reads.
        region[:] = cv2.GaussianBlur(region, (0, 0), max(4.0, (x2 - x1) / 6))
        mean = tuple(int(c) for c in region.reshape(-1, 3).mean(axis=0))
        cv2.ellipse(region, ((x2 - x1) // 2, (y2 - y1) // 2), ((x2 - x1) // 2, (y2 - y1) // 2), 0, 0, 360, mean, -1)
        blurred += 1
    return encode_jpeg(frame, 90), blurred


def export_alert(store: Store, actor: Actor, alert_id: int, out_dir, engine=None) -> list:
    """The alert's images and record as files, for a case file; the export is logged.

    Bystanders' faces in the context frame are always blurred first (exports leave the console;
    people who raised no alert should not leave with them): with ``engine``, or else with the
    bundled detector, loaded for the export. A frame that cannot be blurred is not exported
    unblurred: the export is refused whole and nothing is written.
    """
    from pathlib import Path

    actor.require("export_alert", store)
    detail = review._read_detail(store, alert_id)
    context, blurred = detail.context_jpeg, 0
    if context:  # a purged alert has none
        if engine is None:
            from console.vision.engine import load_engine

            try:
                engine = load_engine()
            except (ConsoleError, OSError, RuntimeError) as exc:
                raise ExportError(f"bystanders' faces could not be blurred: the face detector did not load"
                                  f" ({exc}); nothing was exported") from exc
        context, blurred = blur_bystanders(context, detail.bbox, engine)
    out = Path(out_dir).expanduser()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create the export folder {out}: {exc.strerror or exc}") from exc
    record = {"alert_id": alert_id, "camera": detail.camera, "captured_at": detail.captured_at,
              "score": detail.score, "threshold": detail.threshold, "model_id": detail.model_id,
              "candidates": [{"rank": c.rank, "record_number": c.record_number, "score": c.score}
                             for c in detail.candidates], "decisions": detail.decisions}
    files = [(f"alert-{alert_id}-{name}", data) for name, data in
             (("probe.jpg", detail.probe_jpeg), ("context.jpg", context)) if data]
    files.append((f"alert-{alert_id}.json", json.dumps(record, indent=2, default=str).encode()))
    targets = [target_in(out, name) for name, _ in files]  # all refused before any is written
    written = []
    try:
        for target, (_, data) in zip(targets, files, strict=True):
            written.append(write_new(target, data))
    except ExportError:
        for path in written:  # a case file is whole or absent
            path.unlink(missing_ok=True)
        raise
    try:
        audit.append(store, actor.username, "alert.exported", "alert", alert_id,
                     {"files": [p.name for p in written], "to": str(out), "bystanders_blurred": blurred,
                      "blurring": bool(context)})
    except BaseException:
        for path in written:  # an export the log does not hold does not leave the console
            path.unlink(missing_ok=True)
        raise
    return written
