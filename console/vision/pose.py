"""Head pose from five landmarks: a least-squares fit of a mean 3D face.

Why a fit: reading yaw as ``asin`` of how far the nose sits from the eye midpoint (in half
eye distances) treats the eyes as if they did not move when the head turns. They do - the
eye line shortens as cos(yaw) - so the ratio reaches 1, and the old estimate read "90 deg",
for a three-quarter view of about 45 deg, and could not tell it from a profile. Here the
five points of a generic 3D face are rotated, scaled and shifted until their orthographic
projection lies as close as possible to the five detected points (scaled orthography:
faces are small and far from the camera, so perspective adds nothing the landmarks can
resolve). In that model the nose offset grows as tan(yaw), so the estimate grows smoothly
through 45 deg, stays finite and monotone towards profile, and roll and pitch no longer
leak into yaw.

The mean face is in eye distances (inter-ocular distance = 1), origin at the eye midpoint,
x to the image's right, y down, z towards the camera. Its x and y are those of a frontal
face as YuNet marks it: the ArcFace template's proportions, with the nose landmark 0.55 of
the way from the eye line down to the mouth line (where YuNet puts it on frontal faces).
Its depths are generic adult proportions: the nose tip stands a little over half an eye
distance in front of the eyes, the mouth corners slightly in front of them. A real head
differs from the mean by a few tenths of those depths, which scales yaw by a few degrees
(tested against an independent mean shape in tests/unit/test_pose.py); the estimate is for
judging a view, not for measuring a head.
"""

from __future__ import annotations

import math

import numpy as np

EYE_TO_MOUTH = 1.15  # the ArcFace template: mouth line 40.6 px below the eye line, eyes 35.2 px apart
NOSE_DROP = 0.55  # YuNet's nose landmark on frontal faces, as a share of the eye-to-mouth distance
NOSE_DEPTH = 0.55  # how far the nose tip stands in front of the eyes, in eye distances
MOUTH_DEPTH = 0.15
MOUTH_HALF_WIDTH = 0.415  # ArcFace template: mouth corners 29.2 px apart

# right eye, left eye, nose tip, right mouth corner, left mouth corner (the Detection order)
MEAN_FACE = np.array([
    [-0.5, 0.0, 0.0],
    [0.5, 0.0, 0.0],
    [0.0, NOSE_DROP * EYE_TO_MOUTH, NOSE_DEPTH],
    [-MOUTH_HALF_WIDTH, EYE_TO_MOUTH, MOUTH_DEPTH],
    [MOUTH_HALF_WIDTH, EYE_TO_MOUTH, MOUTH_DEPTH],
])

MAX_ANGLE = 89.9


def rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """The head's rotation for angles in radians: yaw turns the nose to the image's right
    (positive), pitch tips it down (positive), roll turns the eye line clockwise in the image
    (positive: the left eye, on the image's right, lower). Applied in that order."""
    cy, sy = math.cos(yaw), math.sin(yaw)
    cp, sp = math.cos(pitch), math.sin(pitch)
    cr, sr = math.cos(roll), math.sin(roll)
    r_yaw = np.array([[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]])
    r_pitch = np.array([[1.0, 0.0, 0.0], [0.0, cp, sp], [0.0, -sp, cp]])
    r_roll = np.array([[cr, -sr, 0.0], [sr, cr, 0.0], [0.0, 0.0, 1.0]])
    return r_roll @ r_pitch @ r_yaw


def project(model: np.ndarray, yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Orthographic image of a 3D model (n, 3) turned by the angles (radians): (n, 2), x right, y down."""
    return (np.asarray(model, dtype=np.float64) @ rotation(yaw, pitch, roll).T)[:, :2]


_CENTRED_FACE = MEAN_FACE - MEAN_FACE.mean(axis=0)


def _residuals(angles: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Misfit of the best scale for each row of angles (m, 3), as (m, 10): the first two rows of
    ``rotation`` written out, so the four fits of one step (the point and its three nudges) are
    one array computation. Centring the model before projecting equals centring the projection."""
    yaw, pitch, roll = angles[:, 0], angles[:, 1], angles[:, 2]
    cy, sy, cp, sp, cr, sr = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch), np.cos(roll), np.sin(roll)
    rows = np.empty((len(angles), 3, 2))
    rows[:, 0, 0], rows[:, 1, 0], rows[:, 2, 0] = cr * cy + sr * sp * sy, -sr * cp, cr * sy - sr * sp * cy
    rows[:, 0, 1], rows[:, 1, 1], rows[:, 2, 1] = sr * cy - cr * sp * sy, cr * cp, sr * sy + cr * sp * cy
    p = np.einsum("nk,mkd->mnd", _CENTRED_FACE, rows)
    denom = (p * p).sum(axis=(1, 2))
    scale = np.where(denom > 1e-12, (p * target).sum(axis=(1, 2)) / np.maximum(denom, 1e-12), 0.0)
    return (target[None] - scale[:, None, None] * p).reshape(len(angles), -1)


def _residual(angles: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Misfit of the best scale for these angles (target and projection both centred)."""
    return _residuals(np.asarray(angles, dtype=np.float64).reshape(1, 3), target)[0]


def _start(c: np.ndarray) -> np.ndarray:
    """A first guess from the eye line and where the nose sits (scale from the eye-mouth span)."""
    right_eye, left_eye, nose, mouth_r, mouth_l = c
    eye = left_eye - right_eye
    roll = math.atan2(eye[1], eye[0])
    cr, sr = math.cos(-roll), math.sin(-roll)
    level = c @ np.array([[cr, -sr], [sr, cr]]).T
    eye_mid = (level[0] + level[1]) / 2
    mouth_mid = (level[3] + level[4]) / 2
    scale = max(abs(mouth_mid[1] - eye_mid[1]) / EYE_TO_MOUTH, 1e-9)
    side = (level[2, 0] - eye_mid[0]) / scale / NOSE_DEPTH
    drop = ((level[2, 1] - eye_mid[1]) / scale - NOSE_DROP * EYE_TO_MOUTH) / NOSE_DEPTH
    return np.array([math.asin(float(np.clip(side, -0.95, 0.95))),
                     math.asin(float(np.clip(drop, -0.95, 0.95))), roll])


def estimate_pose(landmarks: np.ndarray) -> tuple[float, float, float]:
    """Yaw, pitch and roll in degrees from the five landmarks (Detection order).

    Signs: yaw > 0 when the nose points to the image's right, pitch > 0 when the head tips
    down, roll > 0 when the eye line runs down to the image's right. Levenberg-Marquardt
    over the three angles from a closed-form first guess; each step is a 5-point projection,
    so a face costs well under a millisecond. Angles are held within +-89.9 deg: past that
    the landmarks of a profile carry no more information.
    """
    pts = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    if not np.isfinite(pts).all():
        return 0.0, 0.0, 0.0
    c = pts - pts.mean(axis=0)
    size = float(np.sqrt((c * c).sum() / 5))
    if size < 1e-9:
        return 0.0, 0.0, 0.0
    c = c / size
    x = _start(c)
    r = _residual(x, c)
    cost = float(r @ r)
    damping = 1e-3
    limit = math.radians(MAX_ANGLE)
    nudges = np.vstack([np.zeros(3), np.eye(3) * 1e-6])
    for _ in range(50):
        nudged = _residuals(x + nudges, c)
        r = nudged[0]
        jac = (nudged[1:] - r).T / 1e-6
        g = jac.T @ r
        h = jac.T @ jac
        while True:
            delta = -np.linalg.solve(h + damping * np.diag(np.diag(h) + 1e-9), g)
            trial = np.clip(x + delta, -limit, limit)
            r_trial = _residual(trial, c)
            c_trial = float(r_trial @ r_trial)
            if c_trial < cost:
                x, r, cost = trial, r_trial, c_trial
                damping = max(damping / 3, 1e-9)
                break
            damping *= 4
            if damping > 1e6:
                break
        if damping > 1e6 or float(np.abs(delta).max()) < 1e-7:
            break
    yaw, pitch, roll = (float(np.clip(math.degrees(v), -MAX_ANGLE, MAX_ANGLE)) for v in x)
    return yaw, pitch, roll
