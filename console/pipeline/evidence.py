"""A track's evidence for each watchlist entry, built up over its views.

One frame can be lucky: a blurred or turned view of a passer-by may score high against someone
once. A person in view of a camera is searched several times (each time the track's view
improves, and at least every second), so the decision is taken on the track, not on the frame:

* every searched view leaves, for each candidate entry, its score, the margin its quality
  asks for (``console.vision.margin``) and a weight (the view's quality score, 0..1);
* the track scores an entry by the quality-weighted mean of its best ``k`` views (best by
  score minus margin), and asks the threshold plus the weighted mean of their margins;
* with fewer than ``k`` views the track has less evidence, so it must clear a little more:
  ``single_view_margin`` for one view, half of it for two (k = 3);
* one strong view - at or above threshold + its own margin + ``single_view_margin`` - is
  enough at any time, so a person who faces the camera once among poor views is not missed.

Every way to alert needs at least one view at or above the threshold plus its own margin (a
weighted mean never exceeds its largest term). Good views have no margin, so on the views the
old quality gate searched this rule raises no alert that the old one-view rule (best score >=
threshold) would not have raised: it drops the single lucky frame. What it adds is searching
the poorer views the old gate threw away, each held to its margin, and letting several views
that clear the threshold only modestly alert together where none alone is enough.
``single_view_margin`` (0.02) is how much the calibrated threshold rises when the false-alert
target is made ten times stricter (``resources/models/calibration.json``: 0.019-0.025 for
100-2,000 entries): a track is searched up to about ten times while in view, so a decision on
one view is held to a ten times stricter per-view rate (docs/calibration.md).

Privacy: only numbers are kept - three floats for each of at most ``k`` views per entry and a
count - on the track object, and they go when the tracker forgets the track. No embedding and
no pixel is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

EVIDENCE_VIEWS = 3
SINGLE_VIEW_MARGIN = 0.02
MIN_WEIGHT = 0.05


@dataclass(frozen=True)
class ViewScore:
    score: float
    margin: float
    weight: float

    @property
    def adjusted(self) -> float:
        return self.score - self.margin


@dataclass
class EntryEvidence:
    """The best views of one track against one entry, best (highest score minus margin) first."""

    best: list[ViewScore] = field(default_factory=list)
    views: int = 0  # every view searched in which this entry was a candidate

    def add(self, view: ViewScore, k: int = EVIDENCE_VIEWS) -> None:
        self.views += 1
        self.best.append(view)
        self.best.sort(key=lambda v: v.adjusted, reverse=True)
        del self.best[k:]


@dataclass(frozen=True)
class Verdict:
    alert: bool
    track_score: float  # quality-weighted mean score of the views used
    track_margin: float  # quality-weighted mean margin of the same views
    needed: float  # what track_score had to reach
    views: int  # views of this track searched with this entry among the candidates
    strong_view: bool  # the view just searched was enough on its own

    def as_dict(self) -> dict:
        return {"track_score": round(self.track_score, 4), "track_margin": round(self.track_margin, 4),
                "needed": round(self.needed, 4), "views": self.views, "strong_view": self.strong_view}


def _weighted_mean(values: list[float], weights: list[float]) -> float:
    """Exactly the common value when all values are equal (no rounding), so a track whose views
    all score exactly the threshold is decided as a single view at the threshold would be."""
    base = min(values)
    total = sum(weights)
    return base + sum(w * (v - base) for v, w in zip(values, weights, strict=True)) / total


def decide(evidence: EntryEvidence, latest: ViewScore, threshold: float, *, k: int = EVIDENCE_VIEWS,
           single_view_margin: float = SINGLE_VIEW_MARGIN) -> Verdict:
    """Should the track alert on this entry, now that ``latest`` has been added to ``evidence``?"""
    used = evidence.best[:k]
    weights = [max(v.weight, MIN_WEIGHT) for v in used]
    score = _weighted_mean([v.score for v in used], weights)
    margin = _weighted_mean([v.margin for v in used], weights)
    short = max(0, k - len(used))
    needed = threshold + margin + (single_view_margin * short / (k - 1) if k > 1 else 0.0)
    strong = latest.score >= threshold + latest.margin + single_view_margin
    return Verdict(strong or score >= needed, score, margin, needed, evidence.views, strong)
