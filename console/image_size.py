"""An image's width and height from its header, before anything is decoded.

A decoder allocates what the header declares: a 12,000 x 12,000 JPEG of a few kilobytes costs
a gigabyte once decoded. Reading the size first lets the console refuse it at no cost. Only
the formats the console opens are known here (JPEG, PNG, BMP, WebP, TIFF, GIF); the size is the
one the decoder would use (JPEG: the first frame header, as libjpeg reads it; TIFF: the first
page, and its tiles; WebP: the canvas).
"""

from __future__ import annotations

FORMATS = "JPEG, PNG, BMP, WebP, TIFF or GIF"
# Frame headers (SOF0-SOF15 less DHT C4, JPG C8 and DAC CC): each carries the image's size.
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _u16(data: bytes, i: int, order: str = "big") -> int:
    return int.from_bytes(data[i:i + 2], order)


def _u32(data: bytes, i: int, order: str = "big") -> int:
    return int.from_bytes(data[i:i + 4], order)


def _jpeg(data: bytes) -> tuple[int, int] | None:
    """Walk the markers as libjpeg does (bytes between segments skipped, fill bytes too) to the
    first frame header."""
    i, n = 2, len(data)
    while i < n:
        while i < n and data[i] != 0xFF:
            i += 1
        while i < n and data[i] == 0xFF:
            i += 1
        if i >= n:
            return None
        marker = data[i]
        i += 1
        if marker == 0x00 or marker == 0x01 or 0xD0 <= marker <= 0xD8:
            continue  # a stuffed byte, TEM, RSTn, SOI: no length
        if marker in (0xD9, 0xDA) or i + 2 > n:
            return None  # image end or scan data before any frame header
        if marker in _JPEG_SOF:
            return (_u16(data, i + 5), _u16(data, i + 3)) if i + 7 <= n else None
        length = _u16(data, i)
        if length < 2:
            return None
        i += length
    return None


def _png(data: bytes) -> tuple[int, int] | None:
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    return _u32(data, 16), _u32(data, 20)


def _bmp(data: bytes) -> tuple[int, int] | None:
    if len(data) < 26:
        return None
    if _u32(data, 14, "little") == 12:  # OS/2 BITMAPCOREHEADER: 16-bit sizes
        return _u16(data, 18, "little"), _u16(data, 20, "little")
    w = int.from_bytes(data[18:22], "little", signed=True)
    h = int.from_bytes(data[22:26], "little", signed=True)
    return abs(w), abs(h)  # a negative height is a top-down bitmap


def _webp(data: bytes) -> tuple[int, int] | None:
    kind, body = data[12:16], 20
    if kind == b"VP8X" and len(data) >= body + 10:
        return (int.from_bytes(data[body + 4:body + 7], "little") + 1,
                int.from_bytes(data[body + 7:body + 10], "little") + 1)
    if kind == b"VP8 " and len(data) >= body + 10 and data[body + 3:body + 6] == b"\x9d\x01\x2a":
        return _u16(data, body + 6, "little") & 0x3FFF, _u16(data, body + 8, "little") & 0x3FFF
    if kind == b"VP8L" and len(data) >= body + 5 and data[body] == 0x2F:
        bits = _u32(data, body + 1, "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _tiff(data: bytes) -> tuple[int, int] | None:
    """The first page's size; a tile larger than the page counts as the page (libtiff allocates it)."""
    order = "little" if data[:2] == b"II" else "big"
    if _u16(data, 2, order) != 42:
        return None  # BigTIFF (43) is not read
    ifd = _u32(data, 4, order)
    if ifd + 2 > len(data):
        return None
    tags = {}
    for k in range(_u16(data, ifd, order)):
        e = ifd + 2 + 12 * k
        if e + 12 > len(data):
            return None
        tag, kind = _u16(data, e, order), _u16(data, e + 2, order)
        if tag in (256, 257, 322, 323):
            tags[tag] = _u16(data, e + 8, order) if kind == 3 else _u32(data, e + 8, order)
    if 256 not in tags or 257 not in tags:
        return None
    w, h = tags[256], tags[257]
    return max(w, tags.get(322, 0)), max(h, tags.get(323, 0))


def _gif(data: bytes) -> tuple[int, int] | None:
    return (_u16(data, 6, "little"), _u16(data, 8, "little")) if len(data) >= 10 else None


def declared_size(data: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) as the header declares them; None for another format or a header
    too broken to say."""
    if data[:3] == b"\xff\xd8\xff":
        kind, size = "JPEG", _jpeg(data)
    elif data[:8] == b"\x89PNG\r\n\x1a\n":
        kind, size = "PNG", _png(data)
    elif data[:2] == b"BM":
        kind, size = "BMP", _bmp(data)
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        kind, size = "WebP", _webp(data)
    elif data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        kind, size = "TIFF", _tiff(data)
    elif data[:6] in (b"GIF87a", b"GIF89a"):
        kind, size = "GIF", _gif(data)
    else:
        return None
    return None if size is None else (kind, size[0], size[1])
