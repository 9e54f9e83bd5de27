"""The generated demo feed: people walking through a corridor, drawn from real photos.

The frames are synthetic, the faces in them are real photos (see demo_media), so the
real detector, recogniser and alerting run on them. Two of the walkers are the demo
watchlist's subjects, shown mirrored, re-lit, slightly turned and at another scale from
their enrolment photos; the rest are passers-by who must raise no alert.

A scene is a pure function of (camera index, frame number): the same frame comes back
for the same arguments, which keeps tests and screenshots repeatable.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from console.feeds.demo_media import demo_subjects, passer_by_photo, read_image

WIDTH, HEIGHT, FPS = 1280, 720, 25.0
PERIOD_S = 24.0

# Face boxes (x1, y1, x2, y2) of the six people in insightface's t1.jpg, as YuNet finds them.
T1_FACES = [(52, 265, 170, 399), (270, 146, 369, 276), (462, 265, 576, 416),
            (750, 346, 845, 472), (899, 57, 1005, 197), (1132, 274, 1227, 398)]
ASTRONAUT_FACE = (178, 62, 268, 176)


@dataclass(frozen=True)
class Walker:
    sprite: np.ndarray  # BGR head, square
    mask: np.ndarray  # float32 0..1, same size
    coat: tuple[int, int, int]
    watchlisted: bool


@dataclass(frozen=True)
class Pass:
    """One walk across the frame: who, when (seconds into the period), where, how big."""

    walker: int
    start_s: float
    duration_s: float
    y: int
    head_px: int
    left_to_right: bool


def _head(image: np.ndarray, box: tuple[int, int, int, int], grow: float = 1.7) -> np.ndarray:
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2 + 0.05 * (y2 - y1)
    side = grow * max(x2 - x1, y2 - y1)
    h, w = image.shape[:2]
    pad = int(side)
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    xa, ya = int(cx - side / 2) + pad, int(cy - side / 2) + pad
    return padded[ya : ya + int(side), xa : xa + int(side)].copy()


def _mask(size: int) -> np.ndarray:
    m = np.zeros((size, size), np.float32)
    cv2.ellipse(m, (size // 2, size // 2), (int(size * 0.40), int(size * 0.48)), 0, 0, 360, 1.0, -1)
    return cv2.GaussianBlur(m, (0, 0), size * 0.04)


def _relight(image: np.ndarray, gain: float, gamma: float, angle: float, mirror: bool) -> np.ndarray:
    out = image[:, ::-1] if mirror else image
    lut = np.clip(((np.arange(256) / 255.0) ** gamma) * 255 * gain, 0, 255).astype(np.uint8)
    out = cv2.LUT(np.ascontiguousarray(out), lut)
    h, w = out.shape[:2]
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(out, rot, (w, h), borderMode=cv2.BORDER_REPLICATE)


def _background() -> np.ndarray:
    bg = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    for y in range(HEIGHT):
        shade = 70 + int(60 * y / HEIGHT)
        bg[y] = (shade, shade - 8, shade - 16)
    cv2.rectangle(bg, (0, int(HEIGHT * 0.72)), (WIDTH, HEIGHT), (96, 100, 104), -1)
    for x in range(60, WIDTH, 220):
        cv2.rectangle(bg, (x, 60), (x + 150, 300), (150, 140, 120), -1)
        cv2.rectangle(bg, (x + 8, 68), (x + 142, 292), (190, 180, 160), -1)
    cv2.line(bg, (0, int(HEIGHT * 0.72)), (WIDTH, int(HEIGHT * 0.72)), (60, 60, 60), 3)
    return bg


class DemoScene:
    """Renders frames of one demo camera. Cheap enough for 25 fps on one core."""

    def __init__(self, camera_index: int = 0) -> None:
        group = read_image(passer_by_photo())
        subjects = demo_subjects()
        astronaut = read_image(subjects[0].photo)
        portrait = read_image(subjects[1].photo)
        heads: list[tuple[np.ndarray, bool]] = []
        heads.append((_relight(_head(astronaut, ASTRONAUT_FACE), 0.85, 1.15, 6.0, True), True))
        heads.append((_relight(cv2.resize(portrait, (160, 160), interpolation=cv2.INTER_CUBIC), 1.1, 0.9, -5.0, True), True))
        for box in T1_FACES:
            heads.append((_head(group, box), False))
        coats = [(40, 40, 140), (120, 60, 30), (50, 110, 50), (30, 30, 30), (140, 120, 40), (90, 40, 90),
                 (40, 90, 130), (70, 70, 70)]
        self.walkers = [
            Walker(h, _mask(h.shape[0]), coats[i % len(coats)], w) for i, (h, w) in enumerate(heads)
        ]
        rng = np.random.default_rng(1000 + camera_index)
        order = rng.permutation(len(self.walkers)).tolist()
        passes = []
        slot = PERIOD_S / len(order)
        for k, who in enumerate(order):
            passes.append(Pass(
                walker=who,
                start_s=k * slot + float(rng.uniform(0, 0.3 * slot)),
                duration_s=float(rng.uniform(6.0, 9.0)),
                y=int(rng.uniform(0.22, 0.34) * HEIGHT),
                head_px=int(rng.uniform(120, 170)),
                left_to_right=bool(rng.integers(0, 2)),
            ))
        self.passes = passes
        self.background = _background()
        self.camera_index = camera_index

    def _active(self, index: int):
        t = (index / FPS) % PERIOD_S
        for number, p in enumerate(self.passes):
            for dt in (t - p.start_s, t - p.start_s + PERIOD_S):
                if 0 <= dt <= p.duration_s:
                    yield number, p, dt / p.duration_s

    @staticmethod
    def _head_origin(p: Pass, phase: float) -> tuple[int, int]:
        size = p.head_px
        travel = WIDTH + 2 * size
        x = int(-size + phase * travel) if p.left_to_right else int(WIDTH + size - phase * travel - size)
        y = p.y + int(6 * np.sin(phase * 40))
        return x, y

    def frame(self, index: int) -> np.ndarray:
        out = self.background.copy()
        for _, p, phase in self._active(index):
            self._draw(out, p, phase)
        cv2.putText(out, f"DEMO CAMERA {self.camera_index + 1}  frame {index}", (16, HEIGHT - 16),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.6, (230, 230, 230), 1, cv2.LINE_AA)
        return out

    def head_boxes(self, index: int) -> list[tuple[int, bool, tuple[int, int, int, int]]]:
        """Ground truth for tests and benchmarks: (pass number, watchlisted, head box) of
        every walker in the frame, the box clipped to the frame."""
        out = []
        for number, p, phase in self._active(index):
            x, y = self._head_origin(p, phase)
            box = (max(x, 0), max(y, 0), min(x + p.head_px, WIDTH), min(y + p.head_px, HEIGHT))
            if box[2] > box[0] and box[3] > box[1]:
                out.append((number, self.walkers[p.walker].watchlisted, box))
        return out

    def _draw(self, out: np.ndarray, p: Pass, phase: float) -> None:
        walker = self.walkers[p.walker]
        size = p.head_px
        x, y = self._head_origin(p, phase)
        body_top = y + int(size * 0.85)
        cv2.ellipse(out, (x + size // 2, body_top + size), (int(size * 0.55), size), 0, 180, 360, walker.coat, -1)
        cv2.rectangle(out, (x + size // 2 - int(size * 0.55), body_top + size),
                      (x + size // 2 + int(size * 0.55), HEIGHT), walker.coat, -1)
        sprite = cv2.resize(walker.sprite, (size, size), interpolation=cv2.INTER_AREA)
        mask = cv2.resize(walker.mask, (size, size))[:, :, None]
        x1, y1 = max(x, 0), max(y, 0)
        x2, y2 = min(x + size, WIDTH), min(y + size, HEIGHT)
        if x2 <= x1 or y2 <= y1:
            return
        sx1, sy1 = x1 - x, y1 - y
        region = out[y1:y2, x1:x2].astype(np.float32)
        sp = sprite[sy1 : sy1 + (y2 - y1), sx1 : sx1 + (x2 - x1)].astype(np.float32)
        m = mask[sy1 : sy1 + (y2 - y1), sx1 : sx1 + (x2 - x1)]
        out[y1:y2, x1:x2] = (region * (1 - m) + sp * m).astype(np.uint8)


def write_demo_video(path, camera_index: int = 0, seconds: float = PERIOD_S, size: tuple[int, int] | None = None,
                     fps: float = FPS) -> int:
    """Write the demo scene to a video file (mp4v); returns the number of frames written.

    ``size`` rescales the frames (for example (640, 360)); frame i of the file is
    ``DemoScene.frame(i)``.
    """
    from pathlib import Path

    scene = DemoScene(camera_index)
    w, h = size or (WIDTH, HEIGHT)
    writer = cv2.VideoWriter(str(Path(path)), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    if not writer.isOpened():
        raise OSError(f"cannot write video {path}")
    frames = int(round(seconds * fps))
    try:
        for i in range(frames):
            image = scene.frame(i)
            writer.write(image if size is None else cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA))
    finally:
        writer.release()
    return frames
