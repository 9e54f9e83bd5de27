"""Reading files someone else chose - import CSVs, watchlist photos - with a clear error instead
of OpenCV's stderr warnings, and without letting the file decide what the console does.

Only regular files are read: a FIFO named in an import would block the reading thread (the
UI's only database thread) for ever, /dev/zero would never end, and a link may point anywhere;
so a path is resolved and checked before it is opened, opened without blocking, and checked
again once open. An import folder's files must stay inside it once links are followed.
An image's size is read from its header before it is decoded: at most MAX_PIXELS
(40 megapixels, more than any camera or custody photo needs), so a small file declaring
12,000 x 12,000 pixels is refused without a gigabyte being allocated.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import cv2
import numpy as np

from console.errors import MediaError
from console.image_size import FORMATS, declared_size

MAX_PIXELS = 40_000_000
MAX_IMAGE_BYTES = 100 * 1024 * 1024
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def read_regular_file(path: Path | str, limit: int, within: Path | str | None = None, what: str = "file") -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes (and, given ``within``,
    inside that folder once links are followed); MediaError naming the file otherwise."""
    path = Path(path)
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:  # missing, unreadable folder, or a loop of links
        raise MediaError(f"{path} is missing or not a readable {what} ({getattr(exc, 'strerror', None) or exc})") from exc
    if within is not None:
        folder = Path(within).resolve()
        if folder not in real.parents:
            raise MediaError(f"{path} leads outside the folder {folder} (to {real}); only files inside it are read")
    try:
        before = os.stat(real)
        if not stat.S_ISREG(before.st_mode):
            raise MediaError(f"{path} is {_kind(before.st_mode)}, not a regular file; only regular files are read")
        if before.st_size > limit:
            raise MediaError(f"{path} is {before.st_size / 2**20:.0f} MB, more than the {limit / 2**20:.0f} MB a {what}"
                             " may be; refused without reading it")
        fd = os.open(real, _OPEN_FLAGS)
    except OSError as exc:
        raise MediaError(f"{path} is missing or not a readable {what} ({exc.strerror or exc})") from exc
    try:
        now = os.fstat(fd)
        if not stat.S_ISREG(now.st_mode) or (now.st_dev, now.st_ino) != (before.st_dev, before.st_ino):
            raise MediaError(f"{path} was replaced while it was being opened; nothing was read")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise MediaError(f"{path} could not be read ({exc.strerror or exc})") from exc
    finally:
        os.close(fd)
    if size > limit:
        raise MediaError(f"{path} grew past the {limit / 2**20:.0f} MB a {what} may be while it was read; refused")
    return b"".join(chunks)


def check_pixels(data: bytes, label: Path | str) -> None:
    """MediaError unless the header declares a size the console will decode (see MAX_PIXELS)."""
    found = declared_size(data)
    if found is None:
        raise MediaError(f"{label} is missing or not a readable image (unknown or broken image format; the console"
                         f" reads {FORMATS})")
    kind, width, height = found
    if width <= 0 or height <= 0:
        raise MediaError(f"{label} is a {kind} image that declares no size ({width} x {height}); refused")
    if width * height > MAX_PIXELS:
        raise MediaError(f"{label} declares {width:,} x {height:,} pixels ({width * height / 1e6:.0f} megapixels),"
                         f" more than the {MAX_PIXELS / 1e6:.0f} megapixels the console decodes; refused without"
                         " decoding it")


def read_image(path: Path | str, within: Path | str | None = None) -> np.ndarray:
    """A BGR image, or MediaError naming the file. Handles non-ASCII paths. Only a regular file
    (inside ``within``, if given) of at most MAX_PIXELS pixels is decoded."""
    path = Path(path)
    data = read_regular_file(path, MAX_IMAGE_BYTES, within, "image")
    check_pixels(data, path)
    try:
        image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    except cv2.error as exc:  # a header this module could not see through: OpenCV's own limits still hold
        raise MediaError(f"{path} is not an image the console will open (too large or malformed)") from exc
    if image is None:
        raise MediaError(f"{path} is missing or not a readable image (unknown or broken image format)")
    return image
