"""One recogniser run for the faces of several cameras: the cameras of one process share it.

Each camera's worker asks for its faces' embeddings and waits. The first to ask runs the model
at once; cameras that ask while it runs wait, and the next of them to wake runs every face that
gathered meanwhile in one batch (leader and followers: no thread of its own, and no delay when
only one camera asks). The batch is cut back into each camera's rows; a failure reaches every
camera of that batch.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np


class _Request:
    __slots__ = ("crops", "done", "error", "result")

    def __init__(self, crops: list[np.ndarray]) -> None:
        self.crops = crops
        self.done = False
        self.result: np.ndarray | None = None
        self.error: BaseException | None = None


class SharedEmbedder:
    """A face engine whose ``embed`` batches the faces of every thread that calls it; everything
    else is the wrapped engine's."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self._cond = threading.Condition()
        self._waiting: list[_Request] = []
        self._running = False
        self.batches = 0  # model runs, and the faces they embedded: the benchmark reports the mean batch
        self.faces = 0

    def __getattr__(self, name: str):
        return getattr(self.engine, name)

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        crops = list(crops)
        if not crops:
            return self.engine.embed(crops)
        mine = _Request(crops)
        with self._cond:
            self._waiting.append(mine)
            while not mine.done and self._running:
                self._cond.wait()
            if mine.done:
                return self._answer(mine)
            self._running = True
            batch, self._waiting = self._waiting, []
        try:
            rows = self.engine.embed([c for r in batch for c in r.crops])
            start = 0
            for r in batch:
                r.result = rows[start:start + len(r.crops)]
                start += len(r.crops)
        except BaseException as exc:  # every camera of the batch hears of it
            for r in batch:
                r.error = exc
        with self._cond:
            self.batches += 1
            self.faces += sum(len(r.crops) for r in batch)
            for r in batch:
                r.done = True
            self._running = False
            self._cond.notify_all()
        return self._answer(mine)

    @staticmethod
    def _answer(request: _Request) -> np.ndarray:
        if request.error is not None:
            raise request.error
        return request.result


def shared(engine):
    """The engine wrapped once (wrapping a SharedEmbedder again returns it)."""
    return engine if isinstance(engine, SharedEmbedder) else SharedEmbedder(engine)
