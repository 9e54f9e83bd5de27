"""How much higher than the threshold a poorer view must score, and below what it is not searched.

The calibrated threshold (``console/services/accuracy/calibration.py``) is the operating point for
good views. A view that is smaller, blurrier or more turned than the good-view limits of the
quality gate is still searched - throwing it away lost most faces of real footage, where
watchlisted people walked by with 8-11 px between the eyes - but it must reach the threshold
plus a margin that grows, from 0 at the good-view limit, linearly up to the factor's margin at
the floor (eye distance and sharpness on a log scale: both act by ratios). The factors' margins
add up: a small AND blurred view asks for both.

Below a HARD floor a person could not judge the face either, and the view is not searched at
all: fewer than 8 px between the eyes, sharpness under 5, head turned more than 75 deg or tipped
or rolled more than 60 deg, a weak detection, a face cut by the frame edge (the floor fields of
``QualityGate``; detection score and frame edge are floors only).

Where the margins at the floor come from (``calibration/quality_margin.py``; docs/calibration.md,
"Margins for poorer views"): real portraits of 510 distinct people are made poorer (smaller
down to 7 px between the eyes, blurred, noisy and JPEG-compressed like CCTV, motion-blurred),
each copy is found and embedded by the real engine and banded by the quality measured on it;
for each band the calibration's method (a generalized Pareto tail over the 99th percentile of
its impostor scores) gives the threshold for 2,000 entries at 1 false alert in 100,000 faces,
and the margin at the floor is how far that threshold may lie above the good views' one for
the band just above the floor (8-9 px between the eyes; sharpness 5-8): the 95th percentile of
the difference over 100 bootstrap replicates of the identities, never below 0. (The data does
not show poorer views reaching higher against impostors: at the rates it
reaches, 1 in 1,000 and 1 in 10,000 pairs, every size and blur band below the good-view limits
scores LOWER than the good views, by 0.004-0.065 - a poorer copy of a face is less like everyone,
not more - and the extrapolated thresholds scatter around the good views' one by about +-0.03.
The margins are the part of that scatter the data cannot rule out, so a poorer view is never
held to less than a good one.)
No data here holds turned heads of distinct people (one face past 40 deg of yaw), so the pose
margin cannot be measured: it is set to the largest of the measured margins at the floor, an
assumption stated as such, to be replaced by a measurement on turned faces.

The numbers belong to the bundled model (YuNet + SFace); another model pack needs its own run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class MarginModel:
    """Each factor's margin at its floor (cosine similarity); 0 at its good-view limit."""

    size: float
    sharpness: float
    pose: float


# calibration/quality_margin.py on ../shared/data: the 95th percentile of the threshold shift of the
# 8-9 px band (median -0.007) and of the sharpness 5-8 band (median -0.041); pose: assumed, the larger.
BUNDLED = MarginModel(size=0.045, sharpness=0.051, pose=0.051)


def ramp_down(value: float, good: float, floor: float, log: bool = False) -> float:
    """0 at or above ``good``, 1 at or below ``floor``, linear (or linear in log) between."""
    if value >= good:
        return 0.0
    if value <= floor or good <= floor:
        return 1.0
    if log:
        return math.log(good / value) / math.log(good / floor)
    return (good - value) / (good - floor)


def ramp_up(value: float, good: float, floor: float) -> float:
    """For limits on the size of an angle: 0 at or below ``good``, 1 at or beyond ``floor``."""
    return ramp_down(-abs(value), -good, -floor)


def view_margin(eye_px: float, sharpness: float, yaw: float, pitch: float, roll: float, gate,
                model: MarginModel = BUNDLED) -> dict[str, float]:
    """The margin of each factor (``size``, ``sharpness``, ``pose``) for a view above the floors;
    the view's margin is their sum. ``gate`` is a QualityGate (its good-view limits and floors)."""
    size = ramp_down(max(eye_px, 1e-6), gate.min_eye_distance_px, gate.floor_eye_distance_px, log=True)
    sharp = ramp_down(max(sharpness, 1e-6), gate.min_sharpness, gate.floor_sharpness, log=True)
    pose = max(ramp_up(yaw, gate.max_yaw_deg, gate.floor_yaw_deg),
               ramp_up(pitch, gate.max_pitch_deg, gate.floor_pitch_deg),
               ramp_up(roll, gate.max_roll_deg, gate.floor_roll_deg))
    return {"size": model.size * size, "sharpness": model.sharpness * sharp, "pose": model.pose * pose}
