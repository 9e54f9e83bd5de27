"""Tests that kill the mutants ``python main.py bench mutation --module frames`` found alive: where the
probe crop lies, the face's box inside it, and the context frame's scale (console/pipeline/frames.py)."""

import numpy as np

from console.pipeline import frames


def test_the_probe_region_is_1_6_face_sizes_around_the_centre_and_clipped_at_the_frame_edge():
    shape = (480, 640, 3)
    assert frames.probe_region(shape, np.array([300.0, 200.0, 340.0, 240.0])) == (288, 188, 352, 252)
    assert frames.probe_region(shape, np.array([0.0, 0.0, 40.0, 40.0])) == (0, 0, 52, 52)  # 20 - 32 < 0: from 0
    assert frames.probe_region(shape, np.array([300.0, 200.0, 340.0, 240.0]), 1.0) == (300, 200, 340, 240)


def test_the_probe_crop_takes_the_grow_asked_for():
    frame = np.zeros((480, 640, 3), np.uint8)
    assert frames.probe_crop(frame, np.array([300.0, 200.0, 340.0, 240.0]), 1.0).shape == (40, 40, 3)


def test_the_face_box_inside_the_probe_is_to_a_tenth_of_a_pixel():
    # centre (130.5, 90.5), side 1.6 x 80.48 = 128.768: the probe starts at (66, 26)
    box = np.array([100.26, 50.26, 160.74, 130.74])
    assert frames.face_in_probe((480, 640, 3), box) == [34.3, 24.3, 94.7, 104.7]


def test_the_context_frame_is_at_most_max_width_and_a_narrower_one_is_the_frame_itself():
    assert frames.context_scale((720, 1281, 3)) == 1280 / 1281  # the default bound is 1280
    assert frames.context_scale((480, 640, 3)) == 1.0  # never enlarged
    small = np.zeros((480, 640, 3), np.uint8)
    same, scale = frames.context_frame(small)
    assert same is small and scale == 1.0
    shrunk, scale = frames.context_frame(np.zeros((400, 1000, 3), np.uint8), max_width=500)
    assert shrunk.shape == (200, 500, 3) and scale == 0.5


def test_the_context_frame_is_shrunk_by_averaging_not_by_picking_pixels():
    """Area averaging: at a third of the size each pixel is the mean of a 3 x 3 block (picking one
    pixel of each block, as a plain resize may, aliases fine detail such as a fence or a jacket's print)."""
    rng = np.random.default_rng(3)
    frame = rng.integers(0, 256, (90, 1920, 3), dtype=np.uint8)
    out, scale = frames.context_frame(frame, max_width=640)
    blocks = frame.reshape(30, 3, 640, 3, 3).astype(np.float64).mean(axis=(1, 3))
    assert scale == 1 / 3 and out.shape == (30, 640, 3)
    assert np.abs(out.astype(np.float64) - blocks).max() <= 1.0
