"""Frames for display, from a seat's recognition process to its window, through shared memory.

One block per seat, made and removed by the console (it outlives a recognition process that dies
and is restarted). Per camera it holds a control part, written by the window - the size of the
camera's tile on screen, or 0 x 0 while the tile is hidden - and a display part, written by the
recognition process: the newest frame only, already scaled to that tile size, with its overlays
in tile coordinates, the source's state and frame rate, and the analysed frame rate. A sequence
number, odd while the process writes, lets the window paint only new frames and never a torn one.

Qt-free and without locks: the writer never waits on the reader, the reader retries a frame
caught mid-write (or keeps the last one it read).
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass
from multiprocessing import shared_memory

import numpy as np

MAX_W, MAX_H = 1920, 1080  # the largest tile painted at 1:1; a larger one is scaled up on screen
MAX_FACES = 32
STATES = ("connecting", "live", "lost", "ended", "failed", "stopped", "paused")
# seq, frame index, width, height, state, faces, analysed, embedded, source fps, analysed fps, written (monotonic)
_HEAD = struct.Struct("<QqIIIIQQddd")
_WANT = struct.Struct("<II")  # the tile size the window asks for (0 x 0: hidden, nothing to send)
HEAD_SIZE = 256
FACES_SIZE = MAX_FACES * 5 * 4
SLOT_SIZE = HEAD_SIZE + FACES_SIZE + MAX_W * MAX_H * 3
MATCHED, PASSED, REJECTED = 1, 2, 4


@dataclass(frozen=True)
class TileFace:
    """A face's overlay in the tile frame's own pixels (what VideoTile draws)."""

    box: tuple[float, float, float, float]
    matched: bool
    passed_gate: bool
    rejected: bool


@dataclass(frozen=True)
class Shown:
    """What the recognition process last wrote for one camera."""

    seq: int
    index: int
    image: np.ndarray | None
    faces: list[TileFace]
    state: str
    source_fps: float
    analysed: int
    embedded: int
    analysed_fps: float
    written: float


class DisplayBlock:
    """The seat's block: ``create`` in the console, ``attach`` in the recognition process."""

    def __init__(self, shm: shared_memory.SharedMemory, cameras: int, owner: bool) -> None:
        self.shm, self.cameras, self.owner = shm, cameras, owner
        self.buf = shm.buf

    @classmethod
    def create(cls, cameras: int) -> DisplayBlock:
        shm = shared_memory.SharedMemory(create=True, size=max(1, cameras) * SLOT_SIZE)
        block = cls(shm, cameras, owner=True)
        block.buf[: max(1, cameras) * SLOT_SIZE] = bytes(max(1, cameras) * SLOT_SIZE)
        return block

    @classmethod
    def attach(cls, name: str, cameras: int) -> DisplayBlock:
        # The console owns the block: the process attaching must not have it removed at its exit
        # (Python before 3.13 registers every attached block with the resource tracker).
        shm = shared_memory.SharedMemory(name=name)
        try:
            from multiprocessing import resource_tracker

            resource_tracker.unregister(shm._name, "shared_memory")  # noqa: SLF001
        except Exception:  # a Python that does not track attached blocks
            pass
        return cls(shm, cameras, owner=False)

    @property
    def name(self) -> str:
        return self.shm.name

    def _base(self, cam: int) -> int:
        return cam * SLOT_SIZE

    # -- the window's side ------------------------------------------------------------------
    def want(self, cam: int, width: int, height: int) -> None:
        """The tile size to send frames at (0, 0 while the tile is hidden)."""
        width, height = max(0, min(MAX_W, int(width))), max(0, min(MAX_H, int(height)))
        _WANT.pack_into(self.buf, self._base(cam) + HEAD_SIZE - _WANT.size, width, height)

    def read(self, cam: int, since_seq: int = -1, image: bool = True) -> Shown | None:
        """The newest display of ``cam``; None while nothing is written, or when it is not newer than
        ``since_seq`` (a frame caught mid-write is retried, then left for the next paint)."""
        base = self._base(cam)
        for _ in range(3):
            head = _HEAD.unpack_from(self.buf, base)
            seq = head[0]
            if seq == 0 or seq % 2 or (seq == since_seq):
                if seq % 2:
                    continue
                return None
            _, index, w, h, state, nfaces, analysed, embedded, sfps, afps, written = head
            faces_raw = np.frombuffer(self.buf, np.float32, min(nfaces, MAX_FACES) * 5, base + HEAD_SIZE).reshape(-1, 5)
            faces_copy = faces_raw.copy()
            pixels = None
            if image and w and h:
                pixels = np.frombuffer(self.buf, np.uint8, w * h * 3, base + HEAD_SIZE + FACES_SIZE).reshape(h, w, 3).copy()
            if _HEAD.unpack_from(self.buf, base)[0] != seq:
                continue  # written meanwhile: read again
            faces = [TileFace((float(f[0]), float(f[1]), float(f[2]), float(f[3])), bool(int(f[4]) & MATCHED),
                              bool(int(f[4]) & PASSED), bool(int(f[4]) & REJECTED)) for f in faces_copy]
            return Shown(seq, index, pixels, faces, STATES[state] if state < len(STATES) else "lost", sfps,
                         analysed, embedded, afps, written)
        return None

    # -- the recognition process's side ------------------------------------------------------------
    def wanted(self, cam: int) -> tuple[int, int]:
        return _WANT.unpack_from(self.buf, self._base(cam) + HEAD_SIZE - _WANT.size)

    def write(self, cam: int, index: int, image: np.ndarray | None, faces: list[tuple[float, float, float, float, int]],
              state: str, source_fps: float, analysed: int, embedded: int, analysed_fps: float) -> None:
        base = self._base(cam)
        seq = _HEAD.unpack_from(self.buf, base)[0]
        seq += 1 if seq % 2 == 0 else 0  # odd: being written
        _HEAD.pack_into(self.buf, base, seq, 0, 0, 0, 0, 0, 0, 0, 0.0, 0.0, 0.0)
        h, w = (image.shape[:2] if image is not None else (0, 0))
        if image is not None:
            dest = np.frombuffer(self.buf, np.uint8, w * h * 3, base + HEAD_SIZE + FACES_SIZE).reshape(h, w, 3)
            dest[...] = image
        faces = faces[:MAX_FACES]
        if faces:
            np.frombuffer(self.buf, np.float32, len(faces) * 5, base + HEAD_SIZE)[:] = np.asarray(faces, np.float32).ravel()
        _HEAD.pack_into(self.buf, base, seq + 1, index, w, h, STATES.index(state) if state in STATES else 2, len(faces),
                        analysed, embedded, source_fps, analysed_fps, time.monotonic())

    def close(self) -> None:
        self.buf = None
        try:
            self.shm.close()
        except BufferError:  # a numpy view still open somewhere: the mapping goes with the process
            pass
        if self.owner:
            try:
                self.shm.unlink()
            except FileNotFoundError:
                pass
