"""Make Qt start cleanly beside OpenCV, and say what is missing when it cannot."""

from __future__ import annotations

import ctypes.util
import os
import sys

# Libraries Qt 6's xcb platform plugin (libQt6XcbQpa) links against, with the Debian package of each.
XCB_LIBRARIES = {
    "xcb": "libxcb1",
    "X11-xcb": "libx11-xcb1",
    "xcb-cursor": "libxcb-cursor0",
    "xcb-icccm": "libxcb-icccm4",
    "xcb-image": "libxcb-image0",
    "xcb-keysyms": "libxcb-keysyms1",
    "xcb-randr": "libxcb-randr0",
    "xcb-render": "libxcb-render0",
    "xcb-render-util": "libxcb-render-util0",
    "xcb-shape": "libxcb-shape0",
    "xcb-shm": "libxcb-shm0",
    "xcb-sync": "libxcb-sync1",
    "xcb-util": "libxcb-util1",
    "xcb-xfixes": "libxcb-xfixes0",
    "xcb-xkb": "libxcb-xkb1",
    "xkbcommon": "libxkbcommon0",
    "xkbcommon-x11": "libxkbcommon-x11-0",
    "EGL": "libegl1",
    "GL": "libgl1",
    "fontconfig": "libfontconfig1",
    "dbus-1": "libdbus-1-3",
}


def clear_opencv_qt_overrides() -> None:
    """The non-headless OpenCV wheel points Qt at its own Qt 5 plugins on import; undo that."""
    for var in ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR"):
        value = os.environ.get(var, "")
        if "cv2" in value:
            del os.environ[var]


def missing_window_libraries() -> list[str]:
    """Debian packages that a real (xcb) window needs and this machine lacks."""
    if not sys.platform.startswith("linux"):
        return []
    if os.environ.get("QT_QPA_PLATFORM", "") in ("offscreen", "minimal", "wayland", "vnc"):
        return []
    return sorted({pkg for lib, pkg in XCB_LIBRARIES.items() if ctypes.util.find_library(lib) is None})


def has_display() -> bool:
    if not sys.platform.startswith("linux"):
        return True
    if os.environ.get("QT_QPA_PLATFORM", "") in ("offscreen", "minimal", "vnc"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
