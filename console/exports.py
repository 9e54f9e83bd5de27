"""Where exports may be written, and how.

An export leaves the console as evidence (a case file, a published record), so:
- a file name that comes from a field or from data is a plain name - no folder parts, no
  "..", no control characters, no names the file system treats specially - and it lands in
  the folder it was meant for, never beside or above it;
- an export never replaces an existing file (an earlier export may already be evidence);
- a file is written whole or not at all: a full disk or a crash leaves no half-written
  export under the real name (written to a hidden temporary file, then linked into place).
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

from console.errors import ConsoleError

MAX_NAME_BYTES = 200
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


class ExportError(ConsoleError):
    """An export target was refused or could not be written."""


def check_name(name: str, suffixes: tuple[str, ...] = ()) -> str:
    """The name itself if it is a plain, portable file name (with one of ``suffixes``)."""
    if not name or not name.strip():
        raise ExportError("give a file name for the export")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        raise ExportError("the export file name holds control or invisible characters")
    if "/" in name or "\\" in name or name in (".", "..") or ":" in name:
        raise ExportError(f"{name!r} is not a plain file name (no folders, '..' or ':' in an export name)")
    if name != name.strip() or name.startswith(".") or name.endswith("."):
        raise ExportError(f"{name!r}: an export name may not start with a dot or space, nor end with one")
    if name.split(".")[0].upper() in _RESERVED:
        raise ExportError(f"{name!r} is a reserved device name on Windows")
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise ExportError(f"the export file name is longer than {MAX_NAME_BYTES} bytes")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ExportError("the export file name is not valid text") from exc
    if suffixes and Path(name).suffix.lower() not in suffixes:
        choices = ", ".join(suffixes[:-1]) + f" or {suffixes[-1]}" if len(suffixes) > 1 else suffixes[0]
        raise ExportError(f"{name}: use a file name ending in {choices}")
    return name


def target_in(folder: Path | str, name: str, suffixes: tuple[str, ...] = ()) -> Path:
    """``folder/name`` for a new export, the name checked and the result inside the folder."""
    base = Path(folder).expanduser()
    if not base.is_dir():
        raise ExportError(f"the export folder {base} does not exist (or is not a folder)")
    target = base.resolve() / check_name(name, suffixes)
    if target.parent != base.resolve():  # cannot happen with a checked name; kept as the invariant
        raise ExportError(f"{name!r} would leave the export folder")
    if target.exists() or target.is_symlink():
        raise ExportError(f"{target} exists already: an export never replaces a file (choose another name)")
    return target


def check_target(path: Path | str, suffixes: tuple[str, ...] = ()) -> Path:
    """A full path an authorised user typed: its folder must exist, its name is checked."""
    text = str(path)
    if "\x00" in text:
        raise ExportError("the export path holds a NUL character")
    p = Path(text).expanduser()
    return target_in(p.parent, p.name, suffixes)


def write_new(target: Path, data: bytes) -> Path:
    """Write ``data`` to a new file, whole or not at all; refuses to replace a file."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        with open(tmp, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, target)  # fails if the name was taken meanwhile: never an overwrite
    except FileExistsError as exc:
        raise ExportError(f"{target} exists already: an export never replaces a file") from exc
    except OSError as exc:
        raise ExportError(f"could not write {target}: {exc.strerror or exc}; nothing was exported") from exc
    finally:
        try:
            tmp.unlink()
        except OSError:
            pass
    return target
