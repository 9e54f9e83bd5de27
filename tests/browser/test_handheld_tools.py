"""`bench engage` and the phone screenshots run end to end (a few dispatches, a scratch folder), so
neither rots between releases; their figures are read by people, never asserted as speeds here."""

from __future__ import annotations

import cv2

from console.cli import commands as cli


def test_bench_engage_is_registered_with_its_count():
    seen = []
    assert cli.main(["bench", "engage", "--dispatches", "3"], {cli.BENCH: lambda args: seen.append(args.dispatches) or 0,
                                                               cli.BENCH_UI: lambda args: 9}) == 0
    assert seen == [3]


def test_bench_engage_measures_each_dispatch_to_the_phone():
    from benchmarks.engage import bench_engage

    result = bench_engage(3)
    figures = result["confirm_to_handheld_ms"]
    assert result["dispatches"] == 3
    assert 0 < figures["min"] <= figures["p50"] <= figures["p95"] <= figures["max"]
    assert result["send_to_handheld_ms"]["max"] <= figures["max"]


def test_the_phone_screenshots_are_the_phone_viewport_at_its_scale(tmp_path):
    from benchmarks.handheld_screens import shoot

    phone_png, outcome_png = shoot(tmp_path, 2.0)
    for path in (phone_png, outcome_png):
        image = cv2.imread(str(path))
        assert image is not None and image.shape[:2] == (844 * 2, 390 * 2), path
        assert image.std() > 20  # a page with photos on it, not a blank or an error screen
