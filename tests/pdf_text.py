"""The text of a PDF drawn by Qt's QPdfWriter (ui/record_pdf.py), for the tests: no PDF library is a
dependency, so this reads what Qt writes (Flate streams, Type0 fonts named /F<object>, one glyph per
``<hex> Tj``, each font's ToUnicode map) and nothing more. A line of the page is a line of the text."""

from __future__ import annotations

import re
import unicodedata
import zlib

_OBJ = re.compile(rb"(?m)^(\d+) 0 obj\s*(.*?)\bendobj", re.S)
# Qt writes "stream\n" + data + "\nendstream"; the data may itself end in "\r", so only the "\n" is cut,
# and zlib is told to stop at the end of its own stream (what is left over is not part of it).
_STREAM = re.compile(rb"stream\r?\n(.*?)\nendstream", re.S)


def _objects(pdf: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    out: dict[int, tuple[bytes, bytes | None]] = {}
    for number, body in _OBJ.findall(pdf):
        stream = _STREAM.search(body)
        data = None
        if stream:
            data = stream.group(1)
            if b"/FlateDecode" in body[: stream.start()]:
                data = zlib.decompressobj().decompress(data)
        out[int(number)] = (body if stream is None else body[: stream.start()], data)
    return out


def _unicode_map(cmap: bytes) -> dict[int, str]:
    """A ToUnicode CMap's bfchar and bfrange entries (the forms Qt writes)."""
    glyphs: dict[int, str] = {}

    def text(hexes: bytes) -> str:
        return bytes.fromhex(hexes.decode()).decode("utf-16-be", "replace")

    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, uni in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            glyphs[int(code, 16)] = text(uni)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for lo, hi, rest in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(\[[^\]]*\]|<[0-9A-Fa-f]+>)", block):
            lo_i, hi_i = int(lo, 16), int(hi, 16)
            if rest.startswith(b"["):
                for i, uni in enumerate(re.findall(rb"<([0-9A-Fa-f]+)>", rest)):
                    glyphs[lo_i + i] = text(uni)
            else:
                start = int(rest[1:-1], 16)
                for i in range(hi_i - lo_i + 1):
                    glyphs[lo_i + i] = chr(start + i)
    return glyphs


def pdf_text(pdf: bytes) -> str:
    """The text of every page, in drawing order; a move down the page starts a new line."""
    objects = _objects(pdf)
    fonts: dict[int, dict[int, str]] = {}
    for number, (head, _) in objects.items():
        ref = re.search(rb"/ToUnicode (\d+) 0 R", head)
        if ref and objects.get(int(ref.group(1)), (b"", None))[1] is not None:
            fonts[number] = _unicode_map(objects[int(ref.group(1))][1] or b"")
    lines: list[str] = []
    for head, data in objects.values():
        if data is None or b"BT" not in data or b"Tj" not in data or b"/Subtype" in head:
            continue
        font: dict[int, str] = {}
        line = ""
        for token in re.finditer(rb"/F(\d+) [\d.]+ Tf|(-?[\d.]+) (-?[\d.]+) Td|<([0-9A-Fa-f]+)> Tj|\bET\b", data):
            if token.group(1):
                font = fonts.get(int(token.group(1)), {})
            elif token.group(2) is not None and float(token.group(3)) != 0 and line:
                lines.append(line)
                line = ""
            elif token.group(4):
                code = token.group(4).decode()
                line += "".join(font.get(int(code[i:i + 4], 16), "?") for i in range(0, len(code), 4))
            elif token.group(0) == b"ET" and line:
                lines.append(line)
                line = ""
    return unicodedata.normalize("NFKC", "\n".join(lines)).replace("\t", " ")  # ligatures as letters
