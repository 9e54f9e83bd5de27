"""The pictures an alert keeps: the probe crop around a face, the context frame, and their encoding."""

from __future__ import annotations

from datetime import UTC, datetime

import cv2
import numpy as np


def encode_jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()


def probe_region(shape: tuple, box: np.ndarray, grow: float = 1.6) -> tuple[int, int, int, int]:
    """The probe crop's rectangle in the frame: a square ``grow`` times the face, clipped."""
    x1, y1, x2, y2 = box
    cx, cy, side = (x1 + x2) / 2, (y1 + y2) / 2, grow * max(x2 - x1, y2 - y1)
    h, w = shape[:2]
    return int(max(0, cx - side / 2)), int(max(0, cy - side / 2)), int(min(w, cx + side / 2)), int(min(h, cy + side / 2))


def probe_crop(frame: np.ndarray, box: np.ndarray, grow: float = 1.6) -> np.ndarray:
    xa, ya, xb, yb = probe_region(frame.shape, box, grow)
    return frame[ya:yb, xa:xb].copy()


def face_in_probe(shape: tuple, box: np.ndarray) -> list[float]:
    """The face box in the probe crop's own pixels (the adjudication view frames it)."""
    xa, ya, _, _ = probe_region(shape, box)
    return [round(float(box[0]) - xa, 1), round(float(box[1]) - ya, 1), round(float(box[2]) - xa, 1),
            round(float(box[3]) - ya, 1)]


def context_scale(shape: tuple, max_width: int = 1280) -> float:
    """How much ``context_frame`` shrinks a frame of this shape."""
    return min(1.0, max_width / shape[1])


def context_frame(frame: np.ndarray, max_width: int = 1280) -> tuple[np.ndarray, float]:
    h, w = frame.shape[:2]
    scale = context_scale(frame.shape, max_width)
    if scale == 1.0:
        return frame, 1.0
    return cv2.resize(frame, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA), scale


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
