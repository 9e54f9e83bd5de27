"""The seat's recognition process (started by console/services/runtime/seat_process.py, never by hand):

    main.py seat-recognition        (its settings and the seat's identity arrive on standard input)

It runs the headless worker's code for the seat's cameras at a lower priority, and 25 times a
second writes each camera's newest frame, scaled to its tile, with the overlays in tile
coordinates, into the seat's shared block. It ends when its standard input closes.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time

import cv2

from console.errors import ConsoleError, PermissionDenied
from console.services.accounts.permissions import Permission
from console.services.runtime.seat_display import MATCHED, PASSED, REJECTED, DisplayBlock
from console.services.runtime.seat_process import NICE, OVERLAY_MAX_AGE_S, PUBLISH_S, REFUSED


def fit(frame_w: int, frame_h: int, tile_w: int, tile_h: int) -> tuple[int, int, float]:
    """The frame's size inside the tile, keeping its shape, and the scale."""
    scale = min(tile_w / frame_w, tile_h / frame_h)
    return max(1, round(frame_w * scale)), max(1, round(frame_h * scale)), scale


def tile_faces(faces, scale: float) -> list[tuple[float, float, float, float, int]]:
    out = []
    for f in faces:
        x1, y1, x2, y2 = f.box
        flags = (MATCHED if f.matched else 0) | (PASSED if f.passed_gate else 0) | (
            REJECTED if getattr(f, "rejected", False) else 0)
        out.append((x1 * scale, y1 * scale, x2 * scale, y2 * scale, flags))
    return out


class Publisher:
    """Writes what each tile shows, only when it changed, only at the size the tile asks for."""

    def __init__(self, block: DisplayBlock, live) -> None:
        self.block, self.live = block, live
        self.sent: list[tuple] = [()] * len(live.workers)
        self.beat = [0.0] * len(live.workers)

    def once(self) -> None:
        for i, worker in enumerate(self.live.workers):
            tile_w, tile_h = self.block.wanted(i)
            snap = worker.snapshot()
            state = worker.source.state.value if worker.recognising else "stopped"
            frame, faces = None, []
            if snap.frame is not None and worker.recognising:
                if snap.analysed is not None and snap.frame.captured_at - snap.analysed.captured_at <= OVERLAY_MAX_AGE_S:
                    frame, faces = snap.analysed, snap.result.faces
                else:
                    frame = snap.frame
            key = (frame.index if frame is not None else -1, tile_w, tile_h, state)
            now = time.monotonic()
            if key == self.sent[i] and now - self.beat[i] < 0.5:
                continue  # nothing new (the counts are refreshed twice a second all the same)
            image, overlays = None, []
            if frame is not None and tile_w > 0 and tile_h > 0:
                fh, fw = frame.image.shape[:2]
                w, h, scale = fit(fw, fh, tile_w, tile_h)
                image = frame.image if (w, h) == (fw, fh) else cv2.resize(frame.image, (w, h),
                                                                          interpolation=cv2.INTER_AREA if scale < 1
                                                                          else cv2.INTER_LINEAR)
                overlays = tile_faces(faces, scale)
            self.block.write(i, frame.index if frame is not None else -1, image, overlays, state,
                             worker.source.fps, worker.analysed, worker.embedded_total, worker.analysed_fps)
            self.sent[i], self.beat[i] = key, now

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(PUBLISH_S):
            try:
                self.once()
            except Exception as exc:  # the display must not end recognition
                print(f"display not written: {exc}", file=sys.stderr, flush=True)


def child_main() -> int:
    from console.services.accounts.auth import Actor
    from console.services.runtime import worker
    from console.store import open_location

    config = json.loads(sys.stdin.readline())
    try:
        os.nice(NICE)
    except (OSError, AttributeError):  # not allowed, or not on this system: run at the usual priority
        pass
    a = config["actor"]
    actor = Actor(int(a["user_id"]), a["username"], a["role"], a.get("token", ""))
    store = open_location(config["location"])
    stop = threading.Event()

    def watch_pipe() -> None:
        sys.stdin.read()  # returns when the console closes the pipe, or dies
        stop.set()

    threading.Thread(target=watch_pipe, daemon=True, name="seat-pipe").start()
    block = DisplayBlock.attach(config["shm"], len(config["cameras"]))

    def on_live(live, stop_event, wake) -> None:
        threading.Thread(target=Publisher(block, live).run, args=(stop_event,), daemon=True, name="seat-display").start()
        print("ready", flush=True)

    try:
        actor.require(Permission.START_RECOGNITION, store)
        rows = worker.camera_rows(store, int(config["deployment_id"]), [int(c) for c in config["cameras"]])
        worker.serve(store, actor, int(config["deployment_id"]), rows, None, config.get("providers"), config.get("pack"),
                     worker_id=config["worker_id"], stop=stop, on_live=on_live)
    except (PermissionDenied, ConsoleError) as exc:
        print(f"refused: {exc}", flush=True)
        return REFUSED
    finally:
        stop.set()
        store.close()
    return 0
