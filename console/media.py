"""Reading still images with a clear error instead of OpenCV's stderr warnings."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from console.errors import MediaError


def read_image(path: Path | str) -> np.ndarray:
    """A BGR image, or MediaError naming the file. Handles non-ASCII paths."""
    path = Path(path)
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError as exc:
        raise MediaError(f"{path} is missing or not a readable image ({exc.strerror or exc})") from exc
    try:
        image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    except cv2.error as exc:  # e.g. a decompression bomb: more pixels than OpenCV will allocate
        raise MediaError(f"{path} is not an image the console will open (too large or malformed)") from exc
    if image is None:
        raise MediaError(f"{path} is missing or not a readable image (unknown or broken image format)")
    return image
