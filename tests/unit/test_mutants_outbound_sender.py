"""Outbound's webhook sender in time (mutation check, issue 32): an endpoint that never answers,
how long close waits, when retries come, the order of jobs due at one instant, and wait_idle's
answer. Real HTTP on 127.0.0.1; every wait is bounded, so a hang fails the test."""

from __future__ import annotations

import socket
import threading
import time

from console.services.decisions import outbound
from tests.unit.test_mutants_outbound import (
    EVENT,
    _job,
    log,
    room,  # noqa: F401 - the fixture, shared
)
from tests.unit.test_outbound_webhook import Receiver


def _in_a_thread(fn, bound_s: float):
    """Run ``fn`` on a thread of its own; its result, or AssertionError if it is still running
    after ``bound_s`` (a hang must fail the test, not stop the suite)."""
    out: list = []
    worker = threading.Thread(target=lambda: out.append(fn()), daemon=True)
    worker.start()
    worker.join(bound_s)
    assert not worker.is_alive(), f"still running after {bound_s} s"
    return out[0]


def test_an_endpoint_that_never_answers_times_out_and_close_waits_no_longer_than_asked(room):  # noqa: F811
    store, dep, admin = room
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    held: list[socket.socket] = []

    def accept():  # takes each connection and never answers, until the test hangs up on it
        while True:
            try:
                held.append(silent.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/dispatch"
    sender = outbound.Dispatcher(store, timeout_s=0.3, base_s=100.0)
    stuck = outbound.Dispatcher(store, timeout_s=60.0)
    mine = store.reopen()  # the attempt's own connection: a hung attempt must not outlive the test's
    attempt = threading.Thread(target=lambda: sender._attempt(mine, _job(url)), daemon=True)
    try:
        attempt.start()
        attempt.join(20)
        assert not attempt.is_alive(), "an attempt on a silent endpoint did not time out"
        assert log(store, "outbound.webhook")[-1][3]["error"] in ("TimeoutError", "timeout", "URLError")
        stuck.submit(EVENT, url)  # its thread is now in an attempt that will wait a minute
        time.sleep(0.2)
        _in_a_thread(lambda: stuck.close(wait_s=0.2), 20)
        assert stuck._thread.is_alive()  # close returned without waiting the attempt out
    finally:
        try:
            silent.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        except OSError:
            pass
        silent.close()
        for conn in held:  # a sender still waiting on one hears the end of it
            conn.close()
        attempt.join(5)
        stuck.close()
        sender.close()
        if not attempt.is_alive():
            mine.close()


def test_retries_come_as_soon_as_their_backoff_allows(room):  # noqa: F811
    store, dep, admin = room
    failing = Receiver(fail_first=3)
    sender = outbound.Dispatcher(store, base_s=0.01)
    try:
        start = time.monotonic()
        sender.submit(EVENT, failing.url)
        assert _in_a_thread(lambda: sender.wait_idle(20), 25)
        took = time.monotonic() - start  # 0.01 + 0.02 + 0.04 s of backoff, and four local requests
    finally:
        sender.close()
        failing.close()
    assert failing.tries == 4 and took < 2.5
    assert [d.get("retry_in_s") for *_, d in log(store, "outbound.webhook")] == [0.01, 0.02, 0.04, None]


def test_a_retry_delay_is_logged_to_the_millisecond(room):  # noqa: F811
    store, dep, admin = room
    sender = outbound.Dispatcher(store, base_s=0.0123456)
    try:
        sender._attempt(store, _job("http://127.0.0.1:9/closed"))
    finally:
        sender.close()
    assert log(store, "outbound.webhook")[-1][3]["retry_in_s"] == 0.012


def test_jobs_due_at_the_same_moment_go_in_the_order_they_came(room, monkeypatch):  # noqa: F811
    store, dep, admin = room
    sender = outbound.Dispatcher(store)
    try:
        with sender._cv:
            sender._closed = True  # hold the thread: nothing is sent
        monkeypatch.setattr(outbound.time, "monotonic", lambda: 1000.0)
        for n in range(1, 6):
            sender.submit({**EVENT, "event_id": f"1-{n}"}, "https://x.example/")
        monkeypatch.undo()
        import heapq
        order = [heapq.heappop(sender._heap).event["event_id"] for _ in range(5)]
    finally:
        sender.close()
    assert order == ["1-1", "1-2", "1-3", "1-4", "1-5"]


def test_wait_idle_says_whether_the_queue_emptied_in_time(room):  # noqa: F811
    store, dep, admin = room
    held = outbound.Dispatcher(store)
    try:
        with held._cv:
            held._closed = True  # nothing is sent: the queue never empties
        held.submit(EVENT, "https://x.example/")
        assert _in_a_thread(lambda: held.wait_idle(0.1), 20) is False
    finally:
        held.close()
    once = Receiver(fail_first=1)  # refused once, then taken on the retry 0.2 s later
    sender = outbound.Dispatcher(store, base_s=0.2)
    try:
        sender.submit(EVENT, once.url)
        assert _in_a_thread(lambda: sender.wait_idle(1.0), 20) is True  # queued until the retry is sent
    finally:
        sender.close()
        once.close()
    assert once.tries == 2
