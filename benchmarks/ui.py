"""Event-loop latency of the real operator window with live feeds: is the GUI thread ever held up?

    python main.py bench ui --feeds 4 --seconds 30
    python main.py bench ui --feeds 1,2,4,8 --seconds 30        (one run after another)
    python main.py bench ui --feeds 4 --recognition threads      (the former design, to compare)

A precise 5 ms timer runs on the GUI thread; each firing records how late it came. Every
3 s the benchmark opens the next alert and goes back (the adjudication view renders real
images), as an operator would. Printed, in the same run: p50, p99 and the worst lateness, and
each feed's analysed frame rate over the same seconds (counted where the frames are analysed:
the seat's recognition process, or the window's threads).
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

TICK_MS = 5


def run(args) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        feeds = [int(f) for f in str(args.feeds).split(",") if f.strip()]
    except ValueError:
        print(f"error: --feeds takes counts like 4 or 1,2,4,8, not {args.feeds!r}")
        return 2
    if not feeds or any(not 1 <= n <= 9 for n in feeds):
        print("error: --feeds counts are 1 to 9")
        return 2
    results = []
    for n in feeds:
        code, result = _one(args, n)
        if code:
            return code
        results.append(result)
    if len(results) > 1:
        print("feeds  p50 ms  p99 ms  worst ms  analysed fps per feed")
        for r in results:
            print(f"{r['feeds']:>5}  {r['lateness_ms_p50']:>6.1f}  {r['lateness_ms_p99']:>6.1f}  {r['lateness_ms_max']:>8.1f}  "
                  f"{' '.join(f'{x:.1f}' for x in r['frames_analysed_per_feed_per_s'])}")
    return 0


def _analysed(window) -> list[int]:
    live = window.live
    return [c.analysed for c in (live.seat.cameras if live.seat is not None else live.workers)]


def _one(args, feeds: int) -> tuple[int, dict]:
    from PySide6.QtCore import Qt, QTimer

    from benchmarks.common import machine
    from ui.app import create_app, start_window, wait_until

    app = create_app()
    recognition = getattr(args, "recognition", "process")
    from console.services.setup.demo import demo_data_dir

    # The demo's own store unless one is named: the default data directory may be a real store,
    # which is never made a demo (console/services/setup/demo.py).
    ns = argparse.Namespace(data_dir=args.data_dir or demo_data_dir(), providers=args.providers,
                            model_pack=args.model_pack, recognition=recognition)
    window = start_window(ns, feeds, quiet=True)
    window.resize(1640, 940)
    window.show()
    try:
        if not wait_until(app, lambda: window.live is not None and all(t.image is not None for t in window.tiles), 120):
            print("error: the feeds did not start")
            return 1, {}
        wait_until(app, lambda: False, 3)  # past the start (models warming up), as an operator would be
        late: list[float] = []
        last = {"t": time.perf_counter()}
        opened = {"n": 0}

        def tick() -> None:
            now = time.perf_counter()
            late.append(max(0.0, (now - last["t"]) * 1000 - TICK_MS))
            last["t"] = now

        def operator() -> None:
            if window.center.currentWidget() is window.view:
                window.view.back()
            elif window.alerts.rows:
                window.review.open(window.alerts.rows[0]["id"])
                opened["n"] += 1

        timer = QTimer()
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.timeout.connect(tick)
        ops = QTimer()
        ops.timeout.connect(operator)
        last["t"] = time.perf_counter()
        before, t0 = _analysed(window), time.perf_counter()
        timer.start(TICK_MS)
        ops.start(3000)
        wait_until(app, lambda: False, args.seconds)
        timer.stop()
        ops.stop()
        analysed = [a - b for a, b in zip(_analysed(window), before, strict=True)]
        span = time.perf_counter() - t0
        values = np.array(late)
        result = {
            "feeds": feeds,
            "recognition": recognition,
            "seconds": args.seconds,
            "ticks": len(values),
            "lateness_ms_p50": round(float(np.percentile(values, 50)), 2),
            "lateness_ms_p99": round(float(np.percentile(values, 99)), 2),
            "lateness_ms_max": round(float(values.max()), 2),
            "alerts_opened": opened["n"],
            "frames_analysed_per_feed_per_s": [round(a / span, 1) for a in analysed],
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "machine": machine(),
        }
        print(f"machine: {machine()}")
        print(f"GUI event loop with {feeds} live feeds ({recognition}) for {args.seconds:g} s: lateness of a {TICK_MS} ms "
              f"timer p50 {result['lateness_ms_p50']:.1f} ms, p99 {result['lateness_ms_p99']:.1f} ms, "
              f"worst {result['lateness_ms_max']:.1f} ms ({opened['n']} alerts opened meanwhile); analysed "
              f"{', '.join(f'{x:.1f}' for x in result['frames_analysed_per_feed_per_s'])} frames/s per feed; "
              f"load average {result['load_average'][0]}")
        print(json.dumps(result))
        print(f"reproduce: python main.py bench ui --feeds {feeds} --seconds {args.seconds:g} --recognition {recognition}")
        return 0, result
    finally:
        window.shutdown()
