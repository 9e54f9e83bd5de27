"""A small PDF writer for plain text reports (no third-party dependency).

Pages of monospaced or Helvetica text; enough for a deployment record that a supervisor
signs and a force publishes. Streams are left uncompressed so the text can be checked.
"""

from __future__ import annotations

PAGE_W, PAGE_H = 595, 842  # A4 in points
MARGIN = 56
LINE = 15


def _escape(text: str) -> str:
    text = text.encode("latin-1", "replace").decode("latin-1")
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf_bytes(title: str, lines: list[tuple[str, str]]) -> bytes:
    """The PDF document; lines are (style, text) with style 'h1', 'h2', 'mono' or 'text'. The caller
    writes it (console/exports.py: a new file, written whole)."""
    sizes = {"h1": 16, "h2": 12, "text": 10, "mono": 9}
    fonts = {"h1": "F2", "h2": "F2", "text": "F1", "mono": "F3"}
    pages: list[list[str]] = [[]]
    y = PAGE_H - MARGIN
    for style, text in lines:
        step = LINE + (8 if style in ("h1", "h2") else 0)
        if y - step < MARGIN:
            pages.append([])
            y = PAGE_H - MARGIN
        y -= step
        pages[-1].append(f"BT /{fonts[style]} {sizes[style]} Tf {MARGIN} {y} Td ({_escape(text)}) Tj ET")
    objects: list[bytes] = []

    def add(body: str | bytes) -> int:
        objects.append(body.encode("latin-1") if isinstance(body, str) else body)
        return len(objects)

    catalog = add("")  # placeholder, filled below
    pages_obj = add("")
    f1 = add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    f2 = add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    f3 = add("<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>")
    kids = []
    for number, content in enumerate(pages, start=1):
        footer = f"BT /F1 8 Tf {MARGIN} 30 Td ({_escape(title)} - page {number} of {len(pages)}) Tj ET"
        stream = "\n".join(content + [footer])
        data = stream.encode("latin-1", "replace")
        contents = add(b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream")
        kids.append(add(f"<< /Type /Page /Parent {pages_obj} 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] "
                        f"/Resources << /Font << /F1 {f1} 0 R /F2 {f2} 0 R /F3 {f3} 0 R >> >> "
                        f"/Contents {contents} 0 R >>"))
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages_obj} 0 R >>".encode()
    objects[pages_obj - 1] = (f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] "
                              f"/Count {len(kids)} >>").encode()
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root {catalog} 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
