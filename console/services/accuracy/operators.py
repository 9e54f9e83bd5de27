"""How often each operator's decision is held up by another judgement, with its uncertainty.

The operator's confirmation is the safeguard, so it is measured like the algorithm is: each
person's decisions are held against a *reference* judgement from one or more sources, and every
rate carries its 95 % Wilson interval and the number it is taken over (a rate of 10 looks says far
less than one of 500, and the interval says how much less).

Sources (``SOURCES``; each gives ``Judged`` rows, and every figure below is computed the same way
from whichever rows there are):

- ``blind_review``: a supervisor's blind second look at a past decision (console/services/record/
  reports.py draw_sample/blind_decide). The reference is another person's judgement, not the
  truth, so its false confirmations and misses are *possible* ones. A look by the person who made
  the decision is not a second look and is left out.
- ``known_answer``: known-answer test alerts (console/services/accuracy/known_answer.py), whose truth
  is known: its false confirmations are confirmations of non-mated tests, its misses rejections of
  mated ones. With no test decided, its figures read n=0 with rate and interval None.

For each source: ``agreement`` (decisions the reference agrees with, of all held against it),
``false_confirmations`` (confirmed, of those the reference calls different people: non-mated tests,
or blind looks that rejected) and ``missed_confirmations`` (rejected, of those the reference calls
the same person: mated tests, or blind looks that confirmed).

Time into the shift is counted from the operator's latest sign-in before the decision (the audit
log's ``login.succeeded``; a sign-in made only to change a password or sign a record does not
start a shift). The published record gets the pooled figures only, never a name.
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from console.errors import ConsoleError
from console.services.accounts.auth import Actor
from console.services.accounts.permissions import Permission
from console.store import Store, audit, repo
from console.store import operators as db
from console.store import record as record_db

TRUE, FALSE = "true_alert", "false_alert"
FLAG_KEY = "operator_flag"
DEFAULT_RULE = {"limit": 0.05, "min_tests": 10}
FLAG_ACTION = "operator.flag_action"


@dataclass(frozen=True)
class Judged:
    """One decision held against a reference judgement of the same pair of faces."""

    user_id: int
    username: str
    decision: str  # what the operator decided: true_alert or false_alert
    reference: str  # what the reference says: the blind look's decision, or the known answer
    decided_at: str
    source: str


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of k successes in n tries (95 % at z=1.96); it stays inside
    [0, 1] and is honest at k=0 and k=n, where the plain interval collapses to a point."""
    if n <= 0 or not 0 <= k <= n:
        raise ConsoleError(f"a Wilson interval needs 0 <= k <= n and n > 0 (k={k}, n={n})")
    p, z2 = k / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def rate(k: int, n: int) -> dict:
    """k of n as the figures carry it: the rate and its 95 % interval, None for all three when n is 0."""
    if n == 0:
        return {"k": 0, "n": 0, "rate": None, "low": None, "high": None}
    low, high = wilson(k, n)
    return {"k": k, "n": n, "rate": round(k / n, 4), "low": round(low, 4), "high": round(high, 4)}


def measures(judged: list[Judged]) -> dict:
    """The figures of one source's rows (see the module's docstring)."""
    negatives = [j for j in judged if j.reference == FALSE]
    positives = [j for j in judged if j.reference == TRUE]
    return {"n": len(judged),
            "agreement": rate(sum(j.decision == j.reference for j in judged), len(judged)),
            "false_confirmations": rate(sum(j.decision == TRUE for j in negatives), len(negatives)),
            "missed_confirmations": rate(sum(j.decision == FALSE for j in positives), len(positives))}


# -- the sources ---------------------------------------------------------------------------------
def blind_review_judged(store: Store, deployment_id: int) -> list[Judged]:
    return [Judged(int(r["user_id"]), r["username"], r["decision"], r["blind_decision"], r["decided_at"], "blind_review")
            for r in db.blind_looks(store, deployment_id) if r["blind_by"] != r["user_id"]]


def known_answer_judged(store: Store, deployment_id: int) -> list[Judged]:
    """Known-answer test alerts (console/services/accuracy/known_answer.py): the first decision on each
    decided test, held against the truth (mated: the same person)."""
    from console.store import known_answer as ka_db

    return [Judged(int(r["user_id"]), r["username"], r["decision"], TRUE if int(r["mated"]) else FALSE, r["decided_at"],
                   "known_answer") for r in ka_db.judged(store, deployment_id)]


SOURCES: dict[str, Callable[[Store, int], list[Judged]]] = {
    "blind_review": blind_review_judged,
    "known_answer": known_answer_judged,
}


def _judged(store: Store, deployment_id: int) -> dict[str, list[Judged]]:
    return {name: source(store, deployment_id) for name, source in SOURCES.items()}


# -- time into the shift ---------------------------------------------------------------------------
def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


class Shifts:
    """When each user's sign-in sessions began, to say how far into a shift a decision came."""

    def __init__(self, store: Store) -> None:
        self._starts: dict[int, list[datetime]] = {}
        for r in db.sign_ins(store):
            if "for" in json.loads(r["details_json"] or "{}") or not str(r["user_id"]).isdigit():
                continue  # signed in to change a password or sign a record: no shift begins
            self._starts.setdefault(int(r["user_id"]), []).append(_parse(r["at"]))
        for starts in self._starts.values():
            starts.sort()

    def hour(self, user_id: int, at: str) -> int | None:
        """Whole hours since the user's latest sign-in at or before ``at``; None if none is logged."""
        starts, when = self._starts.get(user_id, []), _parse(at)
        i = bisect.bisect_right(starts, when)
        return int((when - starts[i - 1]).total_seconds() // 3600) if i else None


def _seconds(values_ms: list) -> dict:
    values = [v / 1000 for v in values_ms if v is not None]
    if not values:
        return {"n": 0, "median_s": None, "p90_s": None}
    return {"n": len(values), "median_s": round(float(np.percentile(values, 50)), 1),
            "p90_s": round(float(np.percentile(values, 90)), 1)}


def _by_hour(decisions: list, blind: list[Judged], shifts: Shifts, known: list[Judged] = ()) -> list[dict]:
    """Per whole hour into the shift: decisions and their time, the blind looks' agreement and the
    known-answer tests' accuracy (right answers of tests decided in that hour)."""
    hours: dict[int | None, dict] = {}

    def hour(key) -> dict:
        return hours.setdefault(key, {"ms": [], "blind": [], "known": []})

    for d in decisions:
        hour(shifts.hour(int(d["user_id"]), d["decided_at"]))["ms"].append(d["duration_ms"])
    for j in blind:
        hour(shifts.hour(j.user_id, j.decided_at))["blind"].append(j)
    for j in known:
        hour(shifts.hour(j.user_id, j.decided_at))["known"].append(j)
    order = sorted(hours, key=lambda h: (h is None, h or 0))
    return [{"hour": h, "decisions": len(hours[h]["ms"]), "decision_time": _seconds(hours[h]["ms"]),
             "blind_agreement": measures(hours[h]["blind"])["agreement"],
             "known_answer_accuracy": measures(hours[h]["known"])["agreement"]} for h in order]


# -- the flag rule ---------------------------------------------------------------------------------
def _scope(deployment_id: int) -> str:
    return f"deployment/{deployment_id}"


def flag_rule(store: Store, deployment_id: int) -> dict:
    """The deployment's rule: flag an operator when the lower bound of a false-confirmation rate
    taken over at least ``min_tests`` exceeds ``limit``."""
    rule = repo.get_setting(store, _scope(deployment_id), FLAG_KEY, None)
    return {**DEFAULT_RULE, **(rule or {}), "set": rule is not None}


def set_flag_rule(store: Store, actor: Actor, deployment_id: int, limit: float, min_tests: int, reason: str) -> dict:
    """A supervisor's rule for this deployment, with a reason; a governed, logged setting."""
    actor.require(Permission.SUPERVISE_OPERATORS, store)
    if not 0 < float(limit) < 1:
        raise ConsoleError("the flag limit is a rate between 0 and 1 (0.05 is 5 %)")
    if int(min_tests) < 1:
        raise ConsoleError("the flag needs at least one test to go on")
    if not reason.strip():
        raise ConsoleError("a flag rule needs a reason (it is logged)")
    if repo.get_deployment(store, deployment_id) is None:
        raise ConsoleError(f"deployment {deployment_id} does not exist")
    repo.set_setting(store, _scope(deployment_id), FLAG_KEY, {"limit": float(limit), "min_tests": int(min_tests)},
                     actor.user_id, actor.username, reason)
    return flag_rule(store, deployment_id)


def _flagged_by(sources: dict[str, dict], rule: dict) -> list[str]:
    """The sources whose false-confirmation rate breaks the rule."""
    out = []
    for name, m in sources.items():
        fc = m["false_confirmations"]
        if fc["n"] >= rule["min_tests"] and fc["low"] is not None and fc["low"] > rule["limit"]:
            out.append(name)
    return out


# -- the figures -----------------------------------------------------------------------------------
def _figures(store: Store, deployment_id: int) -> list[dict]:
    if repo.get_deployment(store, deployment_id) is None:
        raise ConsoleError(f"deployment {deployment_id} does not exist")
    decisions = db.first_decisions(store, deployment_id)
    judged, shifts, rule = _judged(store, deployment_id), Shifts(store), flag_rule(store, deployment_id)
    people = {int(d["user_id"]): d["username"] for d in decisions}
    for rows in judged.values():
        people.update({j.user_id: j.username for j in rows})
    out = []
    for user_id, name in sorted(people.items(), key=lambda p: p[1]):
        mine = [d for d in decisions if int(d["user_id"]) == user_id]
        sources = {src: measures([j for j in rows if j.user_id == user_id]) for src, rows in judged.items()}
        flagged_by = _flagged_by(sources, rule)
        out.append({"user_id": user_id, "operator": name, "decisions": len(mine),
                    "confirmed": sum(d["decision"] == TRUE for d in mine),
                    "decision_time": _seconds([d["duration_ms"] for d in mine]),
                    **sources,
                    "by_hour": _by_hour(mine, [j for j in judged["blind_review"] if j.user_id == user_id], shifts,
                                        [j for j in judged["known_answer"] if j.user_id == user_id]),
                    "flagged": bool(flagged_by), "flagged_by": flagged_by, "rule": rule})
    return out


def operator_figures(store: Store, actor: Actor, deployment_id: int) -> list[dict]:
    """Per operator (everyone who decided, by name): ``decisions``, ``decision_time`` (median and
    90th percentile, seconds), for each source its ``n``, ``agreement``, ``false_confirmations`` and
    ``missed_confirmations`` (each k, n, rate, low, high), ``by_hour`` into the shift, and
    ``flagged`` with the sources that flag them. ``known_answer`` reads n=0 while no test was decided."""
    actor.require(Permission.VIEW_DECISIONS, store)
    return _figures(store, deployment_id)


def deployment_figures(store: Store, deployment_id: int) -> dict:
    """The pooled figures for the published record: the same measures over every operator's rows,
    how many operators were measured and how many the rule flags, and never a name."""
    per = _figures(store, deployment_id)
    judged = _judged(store, deployment_id)
    decisions = db.first_decisions(store, deployment_id)
    rule = flag_rule(store, deployment_id)
    return {"operators": len(per), "operators_flagged": sum(p["flagged"] for p in per),
            "flag_rule": {"limit": rule["limit"], "min_tests": rule["min_tests"]},
            "decision_time": _seconds([d["duration_ms"] for d in decisions]),
            **{src: measures(rows) for src, rows in judged.items()},
            "note": "blind_review: held against a supervisor's blind second look (possible errors, not known ones); "
                    "known_answer: known-answer test alerts, whose truth is known (false confirmations of non-mated tests,"
                    " missed confirmations of mated ones)"}


# -- what the supervisor did -------------------------------------------------------------------------
def record_action(store: Store, supervisor: Actor, deployment_id: int, operator: str, text: str) -> int:
    """What a supervisor did about an operator (retraining, a second person on their alerts...),
    as an audit entry with the figures they had in front of them; its sequence number."""
    supervisor.require(Permission.SUPERVISE_OPERATORS, store)
    if not text.strip():
        raise ConsoleError("say what was done (it is logged)")
    user = repo.get_user(store, operator)
    if user is None:
        raise ConsoleError(f"no account named {operator!r}")
    mine = next((p for p in _figures(store, deployment_id) if p["user_id"] == int(user["id"])), None)
    return audit.append(store, supervisor.username, FLAG_ACTION, "deployment", deployment_id, {
        "operator": user["username"], "user_id": int(user["id"]), "text": text.strip(),
        "flagged": bool(mine and mine["flagged"]),
        "false_confirmations": {src: mine[src]["false_confirmations"] for src in SOURCES} if mine else None})


def actions_taken(store: Store, actor: Actor, deployment_id: int) -> list[dict]:
    """The actions recorded about operators in this deployment, oldest first: at, by, operator, text."""
    actor.require(Permission.VIEW_DECISIONS, store)
    out = []
    for r in record_db.deployment_entries(store, deployment_id, FLAG_ACTION):
        d = json.loads(r["details_json"])
        out.append({"at": r["at"], "by": r["actor"], "operator": d.get("operator"), "text": d.get("text", ""),
                    "flagged": d.get("flagged")})
    return out


# -- in words ---------------------------------------------------------------------------------------
def rate_text(m: dict) -> str:
    """"100.0 % [72.2-100.0 %] (n 10)", or "n/a (n 0)"."""
    if not m["n"]:
        return "n/a (n 0)"
    return f"{100 * m['rate']:.1f} % [{100 * m['low']:.1f}-{100 * m['high']:.1f} %] (n {m['n']})"


def pooled_text(pooled: dict) -> str:
    """The record's paragraph on the operators (the PDF and the record tab print it)."""
    blind, known, rule = pooled["blind_review"], pooled["known_answer"], pooled["flag_rule"]
    if blind["n"]:
        looks = (f"A supervisor's blind second look at {blind['n']} decisions: agreement {rate_text(blind['agreement'])}; "
                 f"possible false confirmations (confirmed where the second look rejected) "
                 f"{rate_text(blind['false_confirmations'])}; possible misses (rejected where it confirmed) "
                 f"{rate_text(blind['missed_confirmations'])}.")
    else:
        looks = "No decision has had a blind second look yet."
    tests = ("Known-answer tests: none yet." if not known["n"] else
             f"Known-answer tests ({known['n']}): false confirmations {rate_text(known['false_confirmations'])}; "
             f"missed confirmations {rate_text(known['missed_confirmations'])}.")
    tt = pooled["decision_time"]
    times = f"Decision time median {tt['median_s']} s, 90th percentile {tt['p90_s']} s." if tt["n"] else ""
    return (f"Operators measured: {pooled['operators']}. {looks} {tests} {times} Intervals are 95 % Wilson intervals. "
            f"Flag rule: the lower bound of a false-confirmation rate above {100 * rule['limit']:g} % over at least "
            f"{rule['min_tests']} tests; operators it flags: {pooled['operators_flagged']}.").replace("  ", " ")
