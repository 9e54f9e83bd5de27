"""A throwaway control room with one paired phone, for `bench engage` and the phone screenshots:
a temporary SQLite data directory with a supervisor, an operator, an engagement officer and an
active deployment; the real handheld service over HTTPS in a thread of this process; and the
system's headless chromium as the officer's phone, pinned to the installation's certificate.

It runs from a source checkout with the dev extras: the browser and the HTTPS server are the ones
the browser tests use (tests/browser/chromium.py, tests/browser/server.py), and selenium is a dev tool.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from console.errors import ConsoleError
from console.feeds.demo_media import demo_subjects, read_image
from console.services.accounts.auth import Actor, actor_for
from console.services.decisions import adjudication
from console.services.engage import pairing
from console.services.engage.certificate import ensure_certificate
from console.store import Store, open_store, repo

OFFICER, OFFICER_NAME = "pc.ahmed", "PC Ahmed"
FACE_BOX = (150, 20, 300, 190)  # the face in scikit-image's astronaut photo (x0, y0, x1, y1)


def _jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ConsoleError("could not encode a JPEG")
    return data.tobytes()


def demo_images() -> dict[str, bytes]:
    """capture (the context frame), face (the probe crop) and photo (the watchlist photo): the demo's
    public-domain astronaut photo (scikit-image), or generated pictures when it is not installed."""
    try:
        frame = read_image(demo_subjects()[0].photo)
    except ConsoleError:
        frame = np.full((512, 512, 3), 90, np.uint8)
        cv2.circle(frame, (250, 135), 85, (150, 170, 210), -1)
    x0, y0, x1, y1 = FACE_BOX
    face = cv2.resize(frame[y0:y1, x0:x1], (112, 132))
    photo = cv2.resize(frame[max(y0 - 20, 0):y1 + 60, max(x0 - 30, 0):x1 + 30], (300, 400))
    return {"capture": _jpeg(frame), "face": _jpeg(face), "photo": _jpeg(cv2.flip(photo, 1), 92)}


@dataclass
class World:
    store: Store
    data_dir: Path
    deployment_id: int
    camera_id: int
    entry_id: int
    image_id: int
    sup: Actor
    op: Actor
    images: dict[str, bytes]
    tracks: list[int] = field(default_factory=lambda: [0])

    def alert(self, score: float = 0.74) -> int:
        self.tracks[0] += 1
        captured = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return repo.insert_alert(self.store, repo.AlertRecord(
            self.deployment_id, self.camera_id, self.tracks[0], [(self.entry_id, self.image_id, score)], 0.42, "demo",
            [*FACE_BOX], {}, self.images["face"], self.images["capture"], captured))

    def confirm(self, alert_id: int, note: str) -> None:
        adjudication.open_alert(self.store, self.op, alert_id)
        adjudication.confirm(self.store, self.op, alert_id, note)

    def code(self) -> str:
        return pairing.start_pairing(self.store, self.sup, OFFICER, self.deployment_id).code


def make_world(data_dir: Path) -> World:
    """A fresh store with the accounts and an active deployment (labelled as a demo)."""
    store = open_store(data_dir)
    sup = repo.create_user(store, "sgt.okafor", "Sgt Okafor", "supervisor")
    repo.create_user(store, "op.lee", "Operator Lee", "operator")
    repo.create_user(store, OFFICER, OFFICER_NAME, "engagement_officer")
    dep = repo.create_deployment(store, repo.DeploymentSpec(
        "Demo: King's Cross concourse", "King's Cross station, main concourse (demo)",
        "Demonstration of the handheld: generated data, no real search", "2026-01-01T00:00:00Z",
        "2099-01-01T00:00:00Z", 0.42, 0.363, "demo", incident_window_s=0), sup, "sgt.okafor")  # each alert its own incident
    repo.activate_deployment(store, dep, "sgt.okafor")
    cam = repo.add_camera(store, dep, "Concourse north, camera 2", "demo:0", "sgt.okafor")
    wl = repo.create_watchlist(store, dep, "Missing persons (demo)", "sgt.okafor")
    entry = repo.add_entry(store, wl, repo.EntrySpec(
        "MP-2026-0142", "Demo subject A", "missing_person", "Demonstration only: no legal basis needed, no real search",
        "Reported missing 3 days ago; vulnerable, may be confused", "scikit-image data/astronaut.png (NASA, public domain)",
        "2020-01-01", "2099-01-01"), sup, "sgt.okafor")
    images = demo_images()
    image = repo.add_entry_image(store, entry, images["photo"], np.ones(128, np.float32), "demo", {}, "sgt.okafor")
    return World(store, data_dir, dep, cam, entry, image, actor_for(store, "sgt.okafor"), actor_for(store, "op.lee"),
                 images)


# The page, read by its element ids (console/handheld/static/).
SHOWN_DISPATCH = """
const el = document.getElementById('incident');
if (!el || el.hidden || getComputedStyle(el).display === 'none' || el.getClientRects().length === 0) return null;
return el.dataset.dispatchId || null;
"""
IMAGES_LOADED = """
return ['capture', 'face', 'photo'].every(id => { const i = document.getElementById(id);
  return i && i.complete && i.naturalWidth > 0; });
"""
OFFICER_SHOWN = "const e = document.getElementById('officer'); return !!e && e.textContent.includes(arguments[0]);"


def wait(condition, timeout: float, what: str, poll: float = 0.005):
    end = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= end:
            raise ConsoleError(f"not within {timeout:g} s: {what}")
        time.sleep(poll)


def shown_dispatch(driver) -> int | None:
    found = driver.execute_script(SHOWN_DISPATCH)
    return int(found) if found else None


@contextlib.contextmanager
def control_room(size: tuple[int, int] = (390, 844), scale: float = 3.0) -> Iterator[tuple[World, object, str]]:
    """(world, paired phone driver, base URL); everything is removed on the way out."""
    try:
        from tests.browser import chromium
        from tests.browser.server import serve_https
    except ImportError:
        raise ConsoleError("this runs from a source checkout (its tests/browser/ folder is not here)") from None
    from console.handheld.app import make_app

    with tempfile.TemporaryDirectory(prefix="orc-handheld-") as scratch:
        root = Path(scratch)
        world = make_world(root / "data")
        cert = ensure_certificate(root / "data", ["localhost"])
        base_url, stop = serve_https(make_app(lambda: open_store(world.data_dir)), cert)
        driver = None
        try:
            driver = chromium.start(root / "profile", cert.spki_sha256_b64, size, scale)
            driver.get(base_url + "/")
            wait(lambda: driver.find_elements("id", "pair-code"), 15, "the pairing form")
            driver.find_element("id", "pair-code").send_keys(world.code())
            driver.find_element("id", "pair-submit").click()
            wait(lambda: driver.execute_script(OFFICER_SHOWN, OFFICER_NAME), 15, "the phone paired")
            yield world, driver, base_url
        finally:
            if driver is not None:
                driver.quit()
            stop()
            world.store.close()
