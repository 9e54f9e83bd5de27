"""The threads that store an alert and make its context frame, off the cameras' threads
(console/pipeline/alerting.py).

Two small pools per process:
- **the alert writer**: one thread, at the process's own priority, that stores each alert the
  moment it is raised;
- **the context pool**: one thread per core, at most two, that blurs the bystanders of each alert's
  context frame (0.2-0.6 s of a core) and stores it after the alert.

Since the alert no longer waits for its frame, the frame is the least urgent work in the process,
and the context pool's threads run at the lowest priority there is (nice 19), below the cameras'
analysis (console/pipeline/worker.py). A burst of alerts - eight cameras started together, a crowd -
then no longer takes the cores the cameras need to search the next faces: in the 8-feed bench the
faces searched within 1 s went from 95-97 % to 100 % in paired runs, and the context frames came
later (docs/performance.md, "The context frame below the search").

The lowest priority must not mean never. On a machine that cannot keep up, the cameras would take
every core and a blur could wait for minutes. So the pool is **overdue** while any of its jobs has
waited or run longer than ``CONTEXT_DUE_S``; while it is, every camera pauses ``YIELD_S`` before its
next frame (worker.py), and the cores go to the blur until it is done.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

CONTEXT_DUE_S = 5.0  # a context frame waiting or being made longer than this makes the cameras yield
YIELD_S = 0.02  # each camera's pause before its next frame while a context frame is overdue
LOWEST = 19  # the lowest priority (the highest nice value) on Linux and the BSDs

_lock = threading.Lock()
_pool: _ContextPool | None = None
_writer_pool: _ContextPool | None = None


def _lowest_priority() -> None:
    """This thread alone (a Linux thread is a task of its own) to the lowest priority; raising a nice
    value needs no privilege."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOWEST)
    except (AttributeError, OSError):  # not on this platform (Windows), or not allowed: the usual priority
        pass


class _ContextPool:
    """A few threads, started at once by whoever first asks for the pool (a camera's set-up, on the
    thread that builds the cameras): a thread inherits its maker's priority, and the writer must not
    inherit a camera thread's lowered one (console/pipeline/worker.py)."""

    def __init__(self, workers: int, name: str = "alert-context", lowest: bool = False,
                 due_s: float = CONTEXT_DUE_S) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._lowest = lowest
        self.due_s = due_s
        self._since: dict[int, float] = {}  # job -> when it was submitted, until it is done
        self._since_lock = threading.Lock()
        self.native_ids: list[int] = []
        started = threading.Barrier(workers + 1)
        for n in range(workers):
            threading.Thread(target=self._work, args=(started,), name=f"{name}-{n}", daemon=True).start()
        started.wait()

    def submit(self, fn: Callable, *args) -> Future:
        future: Future = Future()
        with self._since_lock:
            self._since[id(future)] = time.monotonic()
        self._jobs.put((future, fn, args))
        return future

    def overdue(self) -> bool:
        """Whether a job has waited or run longer than ``due_s``."""
        now = time.monotonic()
        with self._since_lock:
            return any(now - t > self.due_s for t in self._since.values())

    def _work(self, started: threading.Barrier) -> None:
        if self._lowest:
            _lowest_priority()
        self.native_ids.append(threading.get_native_id())
        started.wait()
        while True:
            future, fn, args = self._jobs.get()
            try:
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    future.set_result(fn(*args))
                except BaseException as exc:  # the camera hears of it when it collects the frame
                    future.set_exception(exc)
            finally:
                with self._since_lock:
                    self._since.pop(id(future), None)


def _forget_pool_in_child() -> None:
    """A forked child has none of its parent's threads: a pool inherited across a fork would take
    jobs and never run them, so the child makes its own when it first needs one."""
    global _pool, _writer_pool, _lock
    _pool, _writer_pool, _lock = None, None, threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_forget_pool_in_child)


def context_pool() -> _ContextPool:
    """The process's pool: one thread per core, at most two (a blur already uses every core it is given),
    at the lowest priority."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = _ContextPool(max(1, min(2, os.cpu_count() or 1)), lowest=True)
        return _pool


def writer_pool() -> _ContextPool:
    """The process's one alert-writer thread: stores alerts the moment they are raised, for every camera
    (each on its own connection), so that no alert waits behind another's bystander blur."""
    global _writer_pool
    with _lock:
        if _writer_pool is None:
            _writer_pool = _ContextPool(1, "alert-writer")
        return _writer_pool


def contexts_overdue() -> bool:
    """Whether the process's context pool, if it has one, is overdue (see the module's note)."""
    pool = _pool
    return pool is not None and pool.overdue()
