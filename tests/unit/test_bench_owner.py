"""bench pipeline's ground truth: which walk-by a face belongs to where two heads overlap."""

from __future__ import annotations

from benchmarks.pipeline import _owner
from console.feeds.demo import DemoScene


def _overlap(scene: DemoScene) -> tuple[int, list]:
    for index in range(0, 600):
        boxes = scene.head_boxes(index)
        for a in range(len(boxes)):
            for b in range(a + 1, len(boxes)):
                (_, _, p), (_, _, q) = boxes[a], boxes[b]
                if min(p[2], q[2]) - max(p[0], q[0]) > 20 and min(p[3], q[3]) - max(p[1], q[1]) > 20:
                    return index, [boxes[a], boxes[b]]
    raise AssertionError("no overlapping heads in the demo corridor")


def test_a_face_where_two_heads_overlap_is_the_one_drawn_on_top():
    scene = DemoScene(5)  # a walker leaves at the right edge as another enters there
    index, ((under, _, p), (top, _, q)) = _overlap(scene)
    x1, y1, x2, y2 = max(p[0], q[0]), max(p[1], q[1]), min(p[2], q[2]), min(p[3], q[3])
    face = (x1, y1, x2, y2)  # centred where both heads are
    assert _owner(scene, index, face) == top != under
    only_under = (p[0], p[1], p[0] + 4, p[1] + 4) if not (q[0] <= p[0] + 2 <= q[2] and q[1] <= p[1] + 2 <= q[3]) \
        else (p[2] - 4, p[3] - 4, p[2], p[3])
    assert _owner(scene, index, only_under) == under
    assert _owner(scene, index, (-50, -50, -40, -40)) is None
