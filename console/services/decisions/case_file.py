"""An alert as a case file: its images and record as files in a folder, for the people who act
on it. Bystanders' faces in the context frame are blurred first - people who raised no alert do
not leave the console with it - and a frame that cannot be blurred does not leave at all. Every
export is a new, whole set of files, and is logged; a set the log does not hold is taken back."""

from __future__ import annotations

import json

from console.errors import ConsoleError
from console.exports import ExportError, target_in, write_new
from console.services.accounts.auth import Actor
from console.services.accounts.permissions import Permission
from console.services.decisions import adjudication
from console.store import Store, audit, known_answer


def blur_bystanders(context_jpeg: bytes, bbox: list[float], blur, engine=None) -> tuple[bytes, int]:
    """The context frame with every face but the alerted one made unrecognisable
    (``console.vision.bystanders``; ``engine``'s own detections are added to the blur's). Raises
    ExportError when that cannot be done (a frame that does not decode, a detector that fails):
    the caller must not then let the frame leave unblurred."""
    import cv2
    import numpy as np

    from console.pipeline.frames import encode_jpeg

    frame = cv2.imdecode(np.frombuffer(context_jpeg, np.uint8), cv2.IMREAD_COLOR)
    if frame is None or frame.ndim != 3 or frame.shape[2] != 3:
        raise ExportError("the context frame cannot be read as an image, so bystanders' faces in it cannot be"
                          " blurred; nothing was exported")
    try:
        known = engine.detect(frame) if engine is not None else []
        frame, blurred = blur.blur(frame, bbox, known)
    except (ConsoleError, ValueError, RuntimeError, cv2.error) as exc:
        raise ExportError(f"bystanders' faces could not be blurred: the face detector failed ({exc});"
                          " nothing was exported") from exc
    return encode_jpeg(frame, 90), blurred


def export_alert(store: Store, actor: Actor, alert_id: int, out_dir, engine=None) -> list:
    """The alert's images and record as files, for a case file; the export is logged.

    Bystanders' faces in the context frame are always blurred first (exports leave the console;
    people who raised no alert should not leave with them), by the same thorough pass that blurred
    them at capture (``console.vision.bystanders``: the bundled detector at full resolution and
    score 0.3), with ``engine``'s own detections added when one is given. Frames stored before
    capture blurred them are covered the same way. A frame that cannot be blurred is not exported
    unblurred: the export is refused whole and nothing is written.
    """
    from pathlib import Path

    actor.require(Permission.EXPORT_ALERT, store)
    if known_answer.test_of(store, alert_id) is not None:
        raise ConsoleError(f"alert {alert_id} is a known-answer test: it is not evidence and never leaves the console")
    detail = adjudication._read_detail(store, alert_id)
    context, blurred = detail.context_jpeg, 0
    if context:  # a purged alert has none
        from console.vision import bystanders

        try:
            blur = bystanders.shared_blur()
        except (ConsoleError, OSError, RuntimeError) as exc:
            raise ExportError(f"bystanders' faces could not be blurred: the face detector did not load"
                              f" ({exc}); nothing was exported") from exc
        context, blurred = blur_bystanders(context, detail.bbox, blur, engine)
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
