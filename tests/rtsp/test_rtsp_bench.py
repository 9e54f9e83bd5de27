"""`bench rtsp` runs end to end (a short run) and measures what it says: stamps read back from
decoded and painted frames, latencies that are positive and bounded."""

from __future__ import annotations


def test_the_rtsp_latency_bench_reads_the_servers_stamps_back(qapp, gstreamer):
    from benchmarks.rtsp import bench_rtsp

    result = bench_rtsp(seconds=1.5, size=(640, 432))
    assert result["frames_decoded"] > 10 and result["tile_paints_measured"] > 5
    for key in ("server_to_decoded_ms", "server_to_tile_ms"):
        figures = result[key]
        assert 0 <= figures["p50"] <= figures["p95"] <= figures["max"] < 5000
    assert result["server_to_tile_ms"]["p50"] >= result["server_to_decoded_ms"]["p50"] - 50
