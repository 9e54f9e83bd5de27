"""One recogniser run for the faces of several cameras: the cameras of one process share it.

Each camera's worker asks for its faces' embeddings and waits. Up to ``runners`` runs go at
once: a camera that asks while one is free runs the model at once; cameras that ask while all
are busy wait, and the next of them to find one free runs the faces that gathered meanwhile in
one batch (leaders and followers: no thread of its own, and no delay when few cameras ask) - its
share of them, a ``runners``-th, its own among them; the rest go to the next runner free, at once
if one is. So a burst (eight cameras starting with faces in view) is spread over the cores instead
of queued on one thread while the other cores wait. The batch is cut back into each camera's rows;
a failure reaches every camera of that batch.

On a GPU one run at a time, as large as it comes, is what pays. On a CPU a larger batch costs
about as much per face as a single one (docs/performance.md), so there as many runs go at once as
there are cores, each on one thread: the cameras keep every core busy, and batch when they queue.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

import numpy as np


class _Request:
    __slots__ = ("crops", "done", "error", "result", "taken")

    def __init__(self, crops: list[np.ndarray]) -> None:
        self.crops = crops
        self.taken = False  # in a run (this camera's or another's): wait for it to be done
        self.done = False
        self.result: np.ndarray | None = None
        self.error: BaseException | None = None


class SharedEmbedder:
    """A face engine whose ``embed`` batches the faces of every thread that calls it; everything
    else is the wrapped engine's."""

    def __init__(self, engine, runners: int = 1) -> None:
        self.engine = engine
        self.runners = max(1, runners)
        self._cond = threading.Condition()
        self._waiting: list[_Request] = []
        self._running = 0
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
            while mine.taken or self._running >= self.runners:
                if mine.done:
                    return self._answer(mine)
                self._cond.wait()
            self._running += 1
            batch = self._share(mine)
            for r in batch:
                r.taken = True
            if self._waiting:
                self._cond.notify_all()  # a runner free now takes the rest
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
            self._running -= 1
            self._cond.notify_all()
        return self._answer(mine)

    def _share(self, mine: _Request) -> list[_Request]:
        """The requests a run takes (under the lock): its leader's, then the oldest others while the run
        holds fewer than a ``runners``-th of the faces waiting (all of them with one runner)."""
        share = -(-sum(len(r.crops) for r in self._waiting) // self.runners)
        self._waiting.remove(mine)
        batch, faces = [mine], len(mine.crops)
        while self._waiting and faces < share:
            faces += len(self._waiting[0].crops)
            batch.append(self._waiting.pop(0))
        return batch

    @staticmethod
    def _answer(request: _Request) -> np.ndarray:
        if request.error is not None:
            raise request.error
        return request.result


def shared(engine):
    """The engine wrapped once (wrapping a SharedEmbedder again returns it): one run at a time on
    a GPU, one per core on a CPU."""
    if isinstance(engine, SharedEmbedder):
        return engine
    on_gpu = any(p != "CPUExecutionProvider" for p in getattr(engine, "providers", ["CPUExecutionProvider"]))
    return SharedEmbedder(engine, 1 if on_gpu else (os.cpu_count() or 1))
