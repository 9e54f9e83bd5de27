"""The headless OpenCV wheel must be the one in use (the full one breaks PySide6 on X11)."""

from importlib import metadata
from pathlib import Path

import cv2


def test_full_opencv_wheel_is_not_installed():
    names = {d.metadata["Name"].lower() for d in metadata.distributions()}
    assert "opencv-python-headless" in names
    assert "opencv-python" not in names, "run bootstrap.py, which replaces opencv-python with the headless wheel"


def test_cv2_in_use_carries_no_qt_plugins():
    cv2_dir = Path(cv2.__file__).parent
    assert not (cv2_dir / "qt" / "plugins").exists()
