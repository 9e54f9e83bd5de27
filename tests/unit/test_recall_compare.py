"""bench recall's comparison (benchmarks/recall.py): an alerted track of the exhaustive pass is found
when the schedule alerted the same subject on a track whose frames overlap it, on the same video;
and the bench itself, end to end, on one short generated corridor through both real recognisers."""

from __future__ import annotations

from benchmarks.recall import TrackAlert, compare, recall_on_video, summarise


def alert(subject: str, first: int, last: int, track: int = 1, video: str = "cam0", score: float = 0.5) -> TrackAlert:
    return TrackAlert(video, subject, track, first, last, score)


def test_an_overlapping_track_of_the_same_subject_matches_whatever_its_number():
    exhaustive = [alert("A", 10, 60, track=3)]
    scheduled = [alert("A", 55, 90, track=7)]  # the schedule's tracker numbered it differently; frames 55-60 shared
    result = compare(exhaustive, scheduled)
    assert result.matched == exhaustive and result.missed == [] and result.extra == []


def test_spans_that_only_touch_at_one_frame_overlap():
    assert compare([alert("A", 10, 20)], [alert("A", 20, 30)]).matched
    assert compare([alert("A", 10, 20)], [alert("A", 21, 30)]).missed


def test_another_subject_on_the_same_frames_is_a_miss_and_an_extra():
    exhaustive = [alert("A", 10, 60)]
    scheduled = [alert("B", 10, 60)]
    result = compare(exhaustive, scheduled)
    assert result.matched == [] and result.missed == exhaustive and result.extra == scheduled


def test_the_same_subject_on_other_frames_or_another_video_does_not_count():
    exhaustive = [alert("A", 10, 60), alert("A", 200, 260, track=2)]
    scheduled = [alert("A", 100, 150, track=5), alert("A", 200, 260, track=2, video="cam1")]
    result = compare(exhaustive, scheduled)
    assert result.missed == exhaustive and result.extra == scheduled


def test_each_exhaustive_track_is_judged_alone():
    # Two exhaustive tracks of A (the exhaustive tracker split a walk-by in two) and one scheduled track
    # spanning both: both found. A third exhaustive track of A elsewhere is missed.
    exhaustive = [alert("A", 10, 40, track=1), alert("A", 45, 80, track=2), alert("A", 300, 350, track=3)]
    scheduled = [alert("A", 12, 78, track=9)]
    result = compare(exhaustive, scheduled)
    assert [a.track for a in result.matched] == [1, 2] and [a.track for a in result.missed] == [3]
    assert result.extra == []


def test_the_summary_fails_on_a_miss_and_counts_the_extras():
    def video(missed, extra, scheduled, exhaustive):
        return {"exhaustive_alerted_tracks": 2, "matched": 2 - len(missed), "missed": missed,
                "scheduled_without_exhaustive_counterpart": extra, "frames": 100,
                "embedded": {"scheduled": scheduled, "exhaustive": exhaustive},
                "frames_detected": {"scheduled": 60, "exhaustive": 100}}

    missed = alert("A", 1, 2).as_dict()
    report = summarise([video([], [], 20, 100), video([missed], [missed, missed], 30, 100)], ["a note"])
    assert not report["passed"] and report["missed"] == [missed]
    assert report["exhaustive_alerted_tracks"] == 4 and report["matched"] == 3
    assert report["scheduled_without_exhaustive_counterpart"] == 2
    assert report["embedded"] == {"scheduled": 50, "exhaustive": 200} and report["embeddings_saved_share"] == 0.75
    assert report["frames_detected"] == {"scheduled": 120, "exhaustive": 200}
    assert summarise([video([], [], 1, 2)], [])["passed"]


def test_the_bench_runs_both_real_recognisers_over_a_short_corridor(engine, tmp_path):
    from benchmarks.scan import demo_watchlist_folder
    from console.feeds.demo import write_demo_video
    from console.services.runtime.scan import load_watchlist_folder, operating_point

    clip = tmp_path / "corridor.mp4"
    frames = write_demo_video(clip, 1, seconds=4.0, size=(640, 360))
    watchlist = load_watchlist_folder(engine, demo_watchlist_folder(tmp_path / "bench"))
    threshold, _, _ = operating_point(engine, watchlist, None)
    v = recall_on_video(engine, clip, watchlist, threshold, "corridor")
    assert v["frames"] == frames and v["frames_detected"]["exhaustive"] == frames
    assert v["frames_detected"]["scheduled"] <= frames
    assert v["embedded"]["exhaustive"] >= v["embedded"]["scheduled"] > 0
    assert v["exhaustive_alerted_tracks"] >= 1  # demo camera 2's first seconds: the demo subjects walk through it
    assert v["exhaustive_alerted_tracks"] == v["matched"] + len(v["missed"])
    for key in ("video", "size", "missed", "scheduled_alerts", "scheduled_without_exhaustive_counterpart",
                "embeddings_saved_share"):
        assert key in v
    report = summarise([v], [])
    assert report["passed"] == (not v["missed"]) and report["frames"] == frames
