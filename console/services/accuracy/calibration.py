"""Calibrated operating points: the threshold that keeps false alerts rare at a watchlist's size.

A published 1:1 threshold (SFace's 0.363) is not a 1:N operating point. A passer-by raises
a false alert when they score at or above the threshold against ANY of the N entries, so
the expected false alerts per face analysed are

    FPIR(t, N) = 1 - (1 - FMR(t))^N   (about N x FMR(t))

where FMR(t) is the chance that one passer-by scores at or above t against one entry of
someone else. The model's impostor tail FMR(t) is measured once, offline, on real distinct
people (``calibration/calibrate.py``) and shipped beside the model manifest as
``resources/models/calibration.json``: a generalized Pareto tail fitted over a high quantile
of the impostor scores (the empirical rate below it), for clean portraits and for poorer,
live-like copies of them; the operating tail is the worse (higher) of the two at every
score. The genuine scores give the true-match rate a threshold costs.

Pure functions over the loaded numbers: no store, no Qt, no scipy.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from console.errors import ConsoleError, ModelError
from console.paths import resources_dir

CALIBRATION = "calibration.json"
FORMAT = 1
DEFAULT_TARGET = 1e-5  # expected false alerts per face analysed: 1 in 100,000
LOOSEST_TARGET = 1e-4  # a supervisor may go stricter, or looser down to 1 in 10,000, never looser


class TargetRefused(ConsoleError, ValueError):
    """A false-alert target or watchlist size the console will not set a threshold for."""


def check_target(target: float) -> float:
    """The target as a float, or TargetRefused: non-positive, NaN or looser than 1 in 10,000."""
    try:
        value = float(target)
    except (TypeError, ValueError) as exc:
        raise TargetRefused(f"false-alert target {target!r} is not a number") from exc
    if not math.isfinite(value) or value <= 0:
        raise TargetRefused(f"false-alert target {target!r} must be a positive number (e.g. 1e-5: 1 in 100,000 faces)")
    if value > LOOSEST_TARGET:
        raise TargetRefused(f"false-alert target {value:g} per face is looser than the loosest allowed, "
                            f"{LOOSEST_TARGET:g} (1 in {round(1 / LOOSEST_TARGET):,} faces)")
    return value


def _check_entries(n_entries: int) -> int:
    if isinstance(n_entries, bool) or not isinstance(n_entries, (int, np.integer)) or n_entries < 1:
        raise TargetRefused(f"watchlist size {n_entries!r} must be a whole number of entries, at least 1")
    return int(n_entries)


@dataclass(frozen=True)
class Tail:
    """FMR(t): empirical below ``u``, generalized Pareto above it.

    FMR(t) = p_u * (1 + xi (t - u) / sigma) ** (-1 / xi) for t >= u (0 past the upper end
    point when xi < 0); below u, interpolated in log space over (score, FMR) points."""

    u: float
    p_u: float
    sigma: float
    xi: float
    below_t: tuple[float, ...] = ()
    below_fmr: tuple[float, ...] = ()

    @classmethod
    def from_dict(cls, d: dict) -> Tail:
        below = d.get("below_u", [])
        return cls(float(d["u"]), float(d["p_u"]), float(d["sigma"]), float(d["xi"]),
                   tuple(float(t) for t, _ in below), tuple(float(f) for _, f in below))

    def fmr(self, t: float) -> float:
        if t >= self.u:
            z = (t - self.u) / self.sigma
            if abs(self.xi) < 1e-9:
                return self.p_u * math.exp(-z)
            base = 1.0 + self.xi * z
            return 0.0 if base <= 0 else self.p_u * base ** (-1.0 / self.xi)
        if not self.below_t or t <= self.below_t[0]:
            return 1.0 if not self.below_t else self.below_fmr[0]
        return float(np.exp(np.interp(t, self.below_t + (self.u,), np.log(self.below_fmr + (self.p_u,)))))

    def score_at(self, p: float) -> float:
        """The lowest score whose FMR is at most p (the inverse of ``fmr``)."""
        if p <= self.p_u:
            r = p / self.p_u
            if abs(self.xi) < 1e-9:
                return self.u - self.sigma * math.log(r)
            return self.u + self.sigma / self.xi * (r ** (-self.xi) - 1.0)
        if not self.below_t:
            return self.u
        ts = np.array(self.below_t + (self.u,))
        logf = np.log(np.array(self.below_fmr + (self.p_u,)))
        # FMR falls as the score rises: interpolate on the reversed (rising) log-FMR.
        return float(np.interp(math.log(p), logf[::-1], ts[::-1]))


def per_entry_rate(n_entries: int, target: float) -> float:
    """The one-entry false-match rate that gives ``target`` false alerts per face against N entries."""
    return -math.expm1(math.log1p(-target) / n_entries)


def fpir(fmr: float, n_entries: int) -> float:
    return -math.expm1(n_entries * math.log1p(-min(fmr, 1.0 - 1e-16)))


@dataclass(frozen=True)
class Calibration:
    model_id: str
    tails: tuple[Tail, ...]  # the operating tail is their worst (highest FMR) at every score
    boot: tuple[tuple[Tail, ...], ...]  # bootstrap replicates of the same tails
    tmr_grid: tuple[float, ...]
    tmr: dict  # kind ("all", "clean", "degraded") -> TMR on tmr_grid
    data: dict

    def fmr(self, t: float) -> float:
        return max(tail.fmr(t) for tail in self.tails)

    def threshold_for(self, n_entries: int, target: float = DEFAULT_TARGET) -> float:
        p = per_entry_rate(_check_entries(n_entries), check_target(target))
        # A hair above the exact inverse, so the rate at the returned threshold never exceeds the
        # target through rounding.
        return max(tail.score_at(p) for tail in self.tails) + 1e-9

    def threshold_interval(self, n_entries: int, target: float = DEFAULT_TARGET,
                           coverage: float = 0.90) -> tuple[float, float]:
        """The bootstrap interval (over identities) of the threshold for N entries."""
        p = per_entry_rate(_check_entries(n_entries), check_target(target))
        ts = np.array([max(t.score_at(p) for t in rep) for rep in self.boot])
        a = (1.0 - coverage) / 2
        return float(np.quantile(ts, a)), float(np.quantile(ts, 1 - a))

    def false_alerts_per_100k(self, threshold: float, n_entries: int) -> float:
        return 1e5 * fpir(self.fmr(float(threshold)), _check_entries(n_entries))

    def true_match_rate(self, threshold: float, kind: str = "degraded") -> float:
        if kind not in self.tmr:
            raise ModelError(f"the calibration holds no genuine scores of kind {kind!r} (has {sorted(self.tmr)})")
        grid = self.tmr_grid
        t = float(threshold)
        if t <= grid[0]:
            return float(self.tmr[kind][0])
        if t >= grid[-1]:
            return float(self.tmr[kind][-1])
        return float(np.interp(t, grid, self.tmr[kind]))


def default_path() -> Path:
    return resources_dir() / "models" / CALIBRATION


def parse(data: dict) -> Calibration:
    if data.get("format") != FORMAT:
        raise ModelError(f"calibration format {data.get('format')!r} is not {FORMAT}")
    names = data["operating_tail"]["tails"]
    tails = tuple(Tail.from_dict(data["tails"][n]) for n in names)
    below = {n: data["tails"][n].get("below_u", []) for n in names}
    boot = tuple(
        tuple(Tail.from_dict({**dict(zip(("u", "p_u", "sigma", "xi"), rep[n], strict=True)), "below_u": below[n]})
              for n in names)
        for rep in data["bootstrap"]["replicates"]
    )
    g = data["genuine"]["tmr"]
    return Calibration(str(data["model_id"]), tails, boot, tuple(float(x) for x in g["grid"]),
                       {k: tuple(float(x) for x in v) for k, v in g.items() if k != "grid"}, data)


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime: float) -> Calibration:
    try:
        data = json.loads(Path(path).read_text())
        return parse(data)
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise ModelError(f"calibration {path} is unreadable: {exc}") from exc


def load(path: Path | None = None) -> Calibration:
    """The calibration file (default: the one shipped beside the bundled models)."""
    path = Path(path) if path is not None else default_path()
    if not path.is_file():
        raise ModelError(f"no calibration for the models: {path} is missing, so no threshold can be set "
                         f"for a watchlist size (run calibration/calibrate.py)")
    return _load_cached(str(path), path.stat().st_mtime)


def load_for(model_id: str, path: Path | None = None) -> Calibration:
    """The calibration of this model, or ModelError: scores of another model live on another scale."""
    cal = load(path)
    if cal.model_id != model_id:
        raise ModelError(f"the calibration {path or default_path()} belongs to model {cal.model_id}, not to "
                         f"{model_id}: its thresholds do not apply (calibrate this model first)")
    return cal


def _cal(cal: Calibration | None) -> Calibration:
    return cal if cal is not None else load()


def threshold_for(n_entries: int, target: float = DEFAULT_TARGET, *, cal: Calibration | None = None) -> float:
    """The lowest threshold whose expected false alerts per face analysed, against a watchlist of
    ``n_entries``, are at most ``target`` (default 1 in 100,000; never looser than 1 in 10,000)."""
    return _cal(cal).threshold_for(n_entries, target)


def threshold_interval(n_entries: int, target: float = DEFAULT_TARGET, *, cal: Calibration | None = None,
                       coverage: float = 0.90) -> tuple[float, float]:
    return _cal(cal).threshold_interval(n_entries, target, coverage)


def false_alerts_per_100k(threshold: float, n_entries: int, *, cal: Calibration | None = None) -> float:
    """Expected false alerts per 100,000 faces analysed at this threshold with N entries."""
    return _cal(cal).false_alerts_per_100k(threshold, n_entries)


def true_match_rate(threshold: float, *, kind: str = "degraded", cal: Calibration | None = None) -> float:
    """Share of genuine comparisons (same person, enrolment photo vs another photo) at or above the
    threshold: "degraded" live-like probes (the default: a live face is poorer than a photo),
    "clean" photos, or "all" of them pooled."""
    return _cal(cal).true_match_rate(threshold, kind)
