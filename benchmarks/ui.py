"""Event-loop latency of the real operator window with live feeds: is the GUI thread ever held up?

    python main.py bench ui --feeds 4 --seconds 30

A precise 5 ms timer runs on the GUI thread; each firing records how late it came. Every
3 s the benchmark opens the next alert and goes back (the adjudication view renders real
images), as an operator would. Printed: p50, p99 and the worst lateness.
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
    from PySide6.QtCore import Qt, QTimer

    from benchmarks.common import machine
    from ui.app import _wait, create_app, start_window

    app = create_app()
    ns = argparse.Namespace(data_dir=args.data_dir, providers=args.providers, model_pack=args.model_pack)
    window = start_window(ns, args.feeds, quiet=True)
    window.resize(1640, 940)
    window.show()
    try:
        if not _wait(app, lambda: window.live is not None and all(t.image is not None for t in window.tiles), 120):
            print("error: the feeds did not start")
            return 1
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
        timer.start(TICK_MS)
        ops.start(3000)
        _wait(app, lambda: False, args.seconds)
        timer.stop()
        ops.stop()
        analysed = [w.analysed for w in window.live.workers]
        values = np.array(late)
        result = {
            "feeds": args.feeds,
            "seconds": args.seconds,
            "ticks": len(values),
            "lateness_ms_p50": round(float(np.percentile(values, 50)), 2),
            "lateness_ms_p99": round(float(np.percentile(values, 99)), 2),
            "lateness_ms_max": round(float(values.max()), 2),
            "alerts_opened": opened["n"],
            "frames_analysed_per_feed_per_s": [round(a / args.seconds, 1) for a in analysed],
            "machine": machine(),
        }
        print(f"machine: {machine()}")
        print(f"GUI event loop with {args.feeds} live feeds for {args.seconds:g} s: lateness of a {TICK_MS} ms timer "
              f"p50 {result['lateness_ms_p50']:.1f} ms, p99 {result['lateness_ms_p99']:.1f} ms, "
              f"worst {result['lateness_ms_max']:.1f} ms ({opened['n']} alerts opened meanwhile)")
        print(json.dumps(result))
        print(f"reproduce: python main.py bench ui --feeds {args.feeds} --seconds {args.seconds:g}")
        return 0
    finally:
        window.shutdown()
