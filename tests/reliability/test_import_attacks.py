"""Issue 15, imports: what someone at a seat can put in an import CSV or a watchlist folder - a
FIFO, /dev/zero, a link out of the folder, a small file declaring a huge image - is refused with
a sentence naming the file, quickly and without decoding, and the rest of the import goes on.
Every test here is an attack (``-k "security or threat or attack or refused"``)."""

import os
import resource
import struct
import threading
import time
import zlib

import cv2
import numpy as np
import pytest

from console import media
from console.errors import ConsoleError, MediaError
from console.image_size import declared_size
from console.services.accounts import auth
from console.services.runtime.scan import load_watchlist_folder
from console.services.setup import enrol
from tests.conftest import DATA
from tests.factories import small_deployment

GUARD_S = 30.0  # far more than any refusal takes; a regression that blocks fails here instead of hanging


def png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def jpeg_header(width: int, height: int) -> bytes:
    """A real small JPEG whose frame header is rewritten to declare width x height."""
    data = bytearray(cv2.imencode(".jpg", np.full((16, 16, 3), 128, np.uint8))[1].tobytes())
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def run_guarded(fn, unblock=None):
    """fn() on a thread, at most GUARD_S seconds; on a hang, ``unblock`` frees the thread and the test fails."""
    out: dict = {}

    def target():
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            out["error"] = exc

    t0 = time.monotonic()
    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(GUARD_S)
    if worker.is_alive():
        if unblock:
            unblock()
        worker.join(5)
        pytest.fail(f"still blocked after {GUARD_S:.0f} s: a FIFO or device was opened and waited on")
    if "error" in out:
        raise out["error"]
    return out["value"], time.monotonic() - t0


def open_writer(fifo):
    """Open the write end of ``fifo`` (without blocking) so a reader stuck in open() goes on."""
    def unblock():
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
    return unblock


@pytest.fixture
def import_folder(tmp_path):
    """A folder with one good photo and every hostile thing beside it; a secret photo outside."""
    folder = tmp_path / "import"
    folder.mkdir()
    cv2.imwrite(str(folder / "ok.jpg"), cv2.imread(str(DATA / "img20.jpg")))
    os.mkfifo(folder / "pipe.jpg")
    (folder / "zero.jpg").symlink_to("/dev/zero")
    cv2.imwrite(str(tmp_path / "secret.jpg"), cv2.imread(str(DATA / "img21.jpg")))
    (folder / "out.jpg").symlink_to(tmp_path / "secret.jpg")
    (folder / "huge.png").write_bytes(png_header(12000, 12000))
    (folder / "huge.jpg").write_bytes(jpeg_header(12000, 12000))
    return folder


@pytest.mark.timeout(120)
def test_csv_import_attack_fifo_device_link_and_huge_images_refused_quickly_rest_imported(store, engine,
                                                                                          import_folder):
    d = small_deployment(store)
    sup = auth.actor_for(store, "sup")
    names = ["ok.jpg", "pipe.jpg", "zero.jpg", "out.jpg", "huge.png", "huge.jpg"]
    rows = [f"R-{n},S{n},missing_person,b,r,s,2024-01-01,2099-01-01,{name}" for n, name in enumerate(names)]
    (import_folder / "list.csv").write_text(",".join(enrol.CSV_COLUMNS) + "\n" + "\n".join(rows) + "\n")
    result, took = run_guarded(lambda: enrol.import_csv(store, engine, sup, d.watchlist_id, import_folder / "list.csv"),
                               open_writer(import_folder / "pipe.jpg"))
    assert result["added"] == 1, result
    refused = dict(zip(names[1:], result["refused"], strict=True))
    assert "pipe.jpg is a FIFO (named pipe), not a regular file" in refused["pipe.jpg"]
    assert "outside the CSV's folder" in refused["zero.jpg"] and "outside the CSV's folder" in refused["out.jpg"]
    assert "huge.png declares 12,000 x 12,000 pixels (144 megapixels)" in refused["huge.png"]
    assert "huge.jpg declares 12,000 x 12,000 pixels" in refused["huge.jpg"]
    assert took < GUARD_S


@pytest.mark.timeout(60)
def test_a_csv_that_is_itself_a_fifo_or_a_device_is_refused_attack(store, tmp_path):
    d = small_deployment(store)
    sup = auth.actor_for(store, "sup")
    fifo = tmp_path / "list.csv"
    os.mkfifo(fifo)
    for path, unblock, kind in ((fifo, open_writer(fifo), r"a FIFO \(named pipe\)"), ("/dev/zero", None, "a character device")):
        with pytest.raises(MediaError, match=f"is {kind}, not a regular file"):
            run_guarded(lambda p=path: enrol.import_csv(store, None, sup, d.watchlist_id, p), unblock)


@pytest.mark.timeout(60)
def test_read_image_attack_dev_zero_fifo_folder_and_links_out_are_refused(tmp_path, import_folder):
    for path, words in (("/dev/zero", "is a character device"), (import_folder / "pipe.jpg", "is a FIFO"),
                        (import_folder, "is a folder")):
        with pytest.raises(MediaError, match=words):
            run_guarded(lambda p=path: media.read_image(p), open_writer(import_folder / "pipe.jpg"))
    for name in ("zero.jpg", "out.jpg"):
        with pytest.raises(MediaError, match=f"{name} leads outside the folder"):
            media.read_image(import_folder / name, within=import_folder)
    (import_folder / "inside.jpg").symlink_to(import_folder / "ok.jpg")  # a link that stays inside is fine
    assert media.read_image(import_folder / "inside.jpg", within=import_folder).ndim == 3
    loop = import_folder / "loop.jpg"
    loop.symlink_to(loop)
    with pytest.raises(MediaError, match="loop.jpg is missing or not a readable image"):
        media.read_image(loop)


@pytest.mark.timeout(120)
def test_watchlist_folder_attack_each_hostile_file_skipped_by_name_the_rest_loaded(engine, import_folder):
    watchlist, took = run_guarded(lambda: load_watchlist_folder(engine, import_folder),
                                  open_writer(import_folder / "pipe.jpg"))
    assert list(watchlist.names.values()) == ["ok"] and watchlist.images == 1
    skipped = " | ".join(watchlist.skipped)
    assert len(watchlist.skipped) == 5, skipped
    assert "pipe.jpg is a FIFO (named pipe), not a regular file" in skipped
    assert "zero.jpg leads outside the folder" in skipped and "out.jpg leads outside the folder" in skipped
    assert "huge.png declares 12,000 x 12,000 pixels" in skipped and "huge.jpg declares 12,000" in skipped
    assert took < GUARD_S


@pytest.mark.parametrize("make", [png_header, jpeg_header], ids=["png", "jpeg"])
def test_huge_declared_image_refused_without_decoding_attack(tmp_path, monkeypatch, make):
    """A few hundred bytes declaring 144 megapixels: refused from the header; the decoder is never
    called and the process does not grow (a decoded 12,000 x 12,000 image is 432 MB)."""
    path = tmp_path / "bomb"
    path.write_bytes(make(12000, 12000))
    assert path.stat().st_size < 1000

    def no_decoding(*_a, **_k):
        raise AssertionError("the decoder was called")

    monkeypatch.setattr(media.cv2, "imdecode", no_decoding)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(MediaError, match="more than the 40 megapixels the console decodes; refused without decoding"):
        media.read_image(path)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024  # KiB: under 50 MB


def test_an_image_at_the_cap_is_still_read_and_over_it_refused_security(tmp_path):
    ok = tmp_path / "wide.png"
    ok.write_bytes(png_header(8000, 5000))  # exactly 40 megapixels: allowed by the header check
    media.check_pixels(ok.read_bytes(), ok)
    with pytest.raises(MediaError, match="megapixels"):
        media.check_pixels(png_header(8000, 5001), "over.png")
    with pytest.raises(MediaError, match="declares no size"):
        media.check_pixels(png_header(0, 10), "empty.png")
    big = tmp_path / "big.bin"
    with big.open("wb") as fh:
        fh.truncate(media.MAX_IMAGE_BYTES + 1)  # sparse: no disk used
    with pytest.raises(MediaError, match="refused without reading it"):
        media.read_image(big)


@pytest.mark.parametrize("ext,params", [(".jpg", []), (".jpg", [cv2.IMWRITE_JPEG_PROGRESSIVE, 1]), (".png", []),
                                        (".bmp", []), (".webp", []), (".webp", [cv2.IMWRITE_WEBP_QUALITY, 101]),
                                        (".tif", []), (".gif", [])])
def test_header_sizes_are_the_sizes_opencv_decodes_security(ext, params):
    image = np.random.default_rng(1).integers(0, 255, (23, 37, 3), np.uint8)
    data = cv2.imencode(ext, image, params)[1].tobytes()
    kind, width, height = declared_size(data)
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert (width, height) == (decoded.shape[1], decoded.shape[0]) == (37, 23), kind


def test_other_formats_and_broken_headers_are_refused_security(tmp_path):
    for name, data in (("x.ppm", cv2.imencode(".ppm", np.zeros((4, 4, 3), np.uint8))[1].tobytes()),
                       ("x.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 20), ("x.png", b"\x89PNG\r\n\x1a\n"),
                       ("x.txt", b"not an image at all")):
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(ConsoleError, match="not a readable image"):
            media.read_image(path)
