"""The world the handheld's browser tests share: a real SQLite data directory with a deployment whose
alerts carry real JPEGs, an officer, the real web service over HTTPS, and small helpers that drive
the officer's page in chromium by its element ids and wait for conditions (never a fixed sleep)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from console.services.accounts.auth import Actor, actor_for
from console.services.decisions import adjudication
from console.services.engage import pairing
from console.store import Store, repo
from tests.factories import SmallDeployment, small_deployment

OFFICER, OFFICER_NAME = "pc1", "PC One"
NOTE = "matches the scar over the left eye"


def jpeg(width: int, height: int, seed: int) -> bytes:
    """A real JPEG (a gradient with a disc): the page must decode it, so b"j" will not do."""
    y, x = np.mgrid[0:height, 0:width]
    image = np.dstack([(x * 255 // max(width - 1, 1)), (y * 255 // max(height - 1, 1)),
                       np.full_like(x, (seed * 53) % 256)]).astype(np.uint8)
    cv2.circle(image, (width // 2, height // 2), min(width, height) // 3, (40, 40, 200), -1)
    ok, data = cv2.imencode(".jpg", image)
    assert ok
    return data.tobytes()


@dataclass
class Room:
    store: Store
    data_dir: Path
    d: SmallDeployment
    sup: Actor
    op: Actor
    photo_image_id: int  # the entry's enrolment photo, a real JPEG

    def alert(self, track: int = 1) -> int:
        """An alert on the entry with a real capture (context), face (probe) and watchlist photo."""
        return repo.insert_alert(self.store, repo.AlertRecord(
            self.d.deployment_id, self.d.camera_id, track, [(self.d.entry_id, self.photo_image_id, 0.71)], 0.4, "m",
            [10, 10, 90, 110], {}, jpeg(112, 112, track), jpeg(640, 360, track + 1), "2026-01-01T09:00:00Z"))

    def confirmed(self, note: str = NOTE, track: int = 1) -> int:
        alert_id = self.alert(track)
        adjudication.open_alert(self.store, self.op, alert_id)
        adjudication.confirm(self.store, self.op, alert_id, note)
        return alert_id

    def rejected(self, track: int = 2) -> int:
        alert_id = self.alert(track)
        adjudication.open_alert(self.store, self.op, alert_id)
        adjudication.reject(self.store, self.op, alert_id, "different_person")
        return alert_id

    def escalated(self, track: int = 3) -> int:
        alert_id = self.alert(track)
        adjudication.open_alert(self.store, self.op, alert_id)
        adjudication.escalate(self.store, self.op, alert_id, "not sure: the supervisor should look")
        return alert_id

    def code(self, officer: str = OFFICER) -> str:
        return pairing.start_pairing(self.store, self.sup, officer, self.d.deployment_id).code

    def device_ids(self) -> list[int]:
        return [d["device_id"] for d in pairing.devices(self.store, self.sup, self.d.deployment_id) if d["state"] == "live"]


def make_room(data_dir: Path) -> Room:
    from console.store import open_store

    store = open_store(data_dir)
    d = small_deployment(store, operators=("op",))
    repo.create_user(store, OFFICER, OFFICER_NAME, "engagement_officer")
    image_id = repo.add_entry_image(store, d.entry_id, jpeg(300, 400, 7), np.ones(128, np.float32), "m", {}, "sup")
    return Room(store, data_dir, d, actor_for(store, "sup"), actor_for(store, "op"), image_id)


# The page, read by its element ids (see console/handheld/static/).
SHOWN = """
const el = document.getElementById(arguments[0]);
if (!el || el.hidden) return false;
const style = getComputedStyle(el);
return style.display !== 'none' && style.visibility !== 'hidden' && el.getClientRects().length > 0;
"""
SHOWN_DISPATCH = """
const el = document.getElementById('incident');
if (!el || el.hidden || getComputedStyle(el).display === 'none' || el.getClientRects().length === 0) return null;
return el.dataset.dispatchId || null;
"""
IMAGES = """
return ['capture', 'face', 'photo'].map(id => {
  const img = document.getElementById(id);
  return img ? {id: id, src: img.currentSrc || img.src || '', width: img.naturalWidth, complete: img.complete} : null;
});
"""
LEFT_OVER = """
return {imgs: Array.from(document.querySelectorAll('img')).filter(i => i.getAttribute('src')).length,
        incident: !!document.getElementById('incident') && (() => { const e = document.getElementById('incident');
          return !e.hidden && getComputedStyle(e).display !== 'none' && e.getClientRects().length > 0; })(),
        text: document.body.innerText};
"""


def shown(driver, element_id: str) -> bool:
    return bool(driver.execute_script(SHOWN, element_id))


def shown_dispatch(driver) -> int | None:
    found = driver.execute_script(SHOWN_DISPATCH)
    return int(found) if found else None


def wait(condition, timeout: float, what: str, poll: float = 0.02):
    """The condition's first truthy value, or an AssertionError saying what did not happen in time."""
    end = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= end:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        time.sleep(poll)


def pair_by_typing(driver, base_url: str, code: str) -> None:
    driver.get(base_url + "/")
    wait(lambda: shown(driver, "pair-form"), 10, "the pairing form")
    field = driver.find_element("id", "pair-code")
    field.clear()
    field.send_keys(code)
    driver.find_element("id", "pair-submit").click()
    wait(lambda: shown(driver, "officer") and OFFICER_NAME in driver.find_element("id", "officer").text, 10,
         "the officer's name after pairing")


def text_of(driver, element_id: str) -> str:
    return " ".join(driver.find_element("id", element_id).text.split())
