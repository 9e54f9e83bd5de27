"""The Qt-free core of the operator review console."""

__version__ = "0.1.0"

import os as _os

# OpenCV and its FFmpeg print their own warnings on stderr (a missing moov atom, an unreadable
# file). The console reports such problems itself, in one clear line; keep theirs quiet.
_os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
_os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
