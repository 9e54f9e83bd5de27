"""When a tracked face is searched (embedded and compared with the watchlist) again.

A face is searched as soon as it first passes the quality gate. After that a new search of the
same track only pays when it can change the decision, and on the two cores the console is built
for each search is 25-30 ms of a core, more than a whole frame's detection. So a track is searched
again, at most every ``embed_interval_s``, when its view is new:

* **better**: its quality score rose by ``improve_step`` over the best view searched so far;
* **different**: the head turned or tilted ``VIEW_CHANGE_DEG`` from every view searched so far,
  or the face grew to ``VIEW_GROWTH`` times the largest one searched. A turned head can score
  higher against a watchlist photo taken at an angle than the frontal view did, so "better by
  quality" alone is not enough: a subject seen for a second and a half at 55-68 degrees of yaw
  after a frontal view must be searched there too;
* **near the bar**: its best view came within ``pending_window`` of the score it needs, so more
  views like it may decide (the track's evidence is the mean of its best views, and a track with
  one strong view among poor ones needs the others);
* **back from the edge**: its face reached the frame's edge since its last search (and failed the
  gate there). A walker leaving at the edge while another enters at the same place can hand one
  track over with no frame missed and no other face near, so the face that comes back into full
  view may be someone else's: in the 8-feed bench such a face went unsearched for 1.1-6.3 s;

and, whatever the view, at least every ``refresh_s`` (half a second) while it may have swapped
identities with another face (console/pipeline/tracker.py, ``disturbed``: missed on a frame, near
another face, or beside one that was missed).

The exhaustive pass (``every_view``: every face, every frame) is the yardstick: ``bench recall``
runs both over every video there is and lists any track the exhaustive pass alerts on that the
schedule does not.

Only numbers are kept per track (pose and size of at most ``MAX_VIEWS`` searched views), and they
go with the track.
"""

from __future__ import annotations

VIEW_CHANGE_DEG = 15.0
VIEW_GROWTH = 1.3
MAX_VIEWS = 8


def new_view(views: list[tuple[float, float, float]], yaw: float, pitch: float, face_px: float) -> bool:
    """Whether a view at this pose and size differs from every view in ``views`` (yaw, pitch, face px)."""
    if not views:
        return True
    if face_px >= VIEW_GROWTH * max(v[2] for v in views):
        return True
    return all(abs(yaw - vy) >= VIEW_CHANGE_DEG or abs(pitch - vp) >= VIEW_CHANGE_DEG for vy, vp, _ in views)


def remember(views: list[tuple[float, float, float]], yaw: float, pitch: float, face_px: float) -> None:
    views.append((float(yaw), float(pitch), float(face_px)))
    del views[:-MAX_VIEWS]
