"""Known-answer test alerts (Step 17): incidents whose truth is known, put into the operators' queue so
that how often an operator confirms the wrong person is a measured number.

A supervisor enables them per deployment (a governed setting: one test per ``every`` real incidents,
and at least one an hour when ``hourly``), from a proficiency set a supervisor loaded
(console/services/accuracy/proficiency.py). A test is an ordinary alert - the same queue card, the
same claims, the same decisions - whose capture, box, crop and quality were made live-like when the
set was loaded, beside a watchlist-style photo, on one of the deployment's cameras. Safe by
construction:

- it is marked a test (``known_answer_alerts``) in the transaction that makes it: a crash or a restart
  cannot turn it real, and the mark is append-only (and digested into the log);
- its entry is in the deployment's test watchlist, which the gallery never searches and no count,
  list or frozen watchlist hash includes;
- it is never dispatched (console/services/engage/dispatch.py), never sent out (outbound), never
  given an engagement outcome, never sampled for blind review, and left out of every figure and
  histogram of the deployment (console/store/record.py, stats.py: ``KA``);
- right after it is decided, ``reveal`` tells the operator the truth ("test: these are different
  people"), and the reveal is an audit entry, as the decision is.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from console import clock
from console.domain import AlertRecord
from console.errors import ConsoleError
from console.services.accounts.auth import Actor
from console.services.accounts.permissions import Permission
from console.store import Store, audit, ledger, repo
from console.store import known_answer as db
from console.store import watchlists as wl_db
from console.store.settings import get_setting, set_setting
from console.store.stats import camera_names

KEY = "known_answer"
ACTOR = "known-answer"  # the audit log's name for the maker of test alerts (not a person)
DEFAULT = {"enabled": False, "every": 20, "hourly": True}
HOUR = timedelta(hours=1)
WATCHLIST_NAME = "known-answer tests (never searched)"


class KnownAnswerError(ConsoleError):
    pass


def scope(deployment_id: int) -> str:
    return f"deployment/{deployment_id}"


def _ts(t: datetime) -> str:
    return t.isoformat(timespec="microseconds").replace("+00:00", "Z")


def settings(store: Store, deployment_id: int) -> dict:
    return {**DEFAULT, **(get_setting(store, scope(deployment_id), KEY) or {})}


def configure(store: Store, supervisor: Actor, deployment_id: int, enabled: bool, every: int = 20, hourly: bool = True,
              reason: str = "") -> None:
    """Enable (or stop) test alerts for the deployment: one per ``every`` real incidents, and at least one
    an hour when ``hourly``. A governed setting, changed with a reason."""
    supervisor.require(Permission.SUPERVISE_OPERATORS, store)
    if not reason.strip():
        raise KnownAnswerError("enabling or changing known-answer tests needs a reason")
    if not 2 <= int(every) <= 1000:
        raise KnownAnswerError("a test per 2 to 1000 real incidents")
    dep = repo.get_deployment(store, deployment_id)
    if dep is None:
        raise KnownAnswerError(f"deployment {deployment_id} does not exist")
    if enabled and not db.items_for(store, dep["model_id"]):
        raise KnownAnswerError(f"no proficiency set for the model {dep['model_id']}: load one first "
                               "(python main.py known-answer load FOLDER --csv TRUTH.csv)")
    set_setting(store, scope(deployment_id), KEY, {"enabled": bool(enabled), "every": int(every), "hourly": bool(hourly),
                                                   "by": supervisor.user_id}, supervisor.user_id, supervisor.username,
                reason.strip())


def due(store: Store, deployment_id: int) -> bool:
    """Whether a test is owed now: enabled, and ``every`` real incidents (or, hourly, an hour) since the last."""
    s = settings(store, deployment_id)
    if not s["enabled"]:
        return False
    last = db.last_test_at(store, deployment_id)
    if s["hourly"] and (last is None or datetime.fromisoformat(last.replace("Z", "+00:00")) + HOUR <= clock.now()):
        return True
    return db.real_incidents_since(store, deployment_id, last) >= int(s["every"])


def _test_watchlist(store: Store, deployment_id: int) -> int:
    found = db.test_watchlist(store, deployment_id)
    if found is not None:
        return found
    with store.transaction() as conn:
        watchlist_id = repo.create_watchlist(store, deployment_id, WATCHLIST_NAME, ACTOR)
        db.mark_watchlist(conn, watchlist_id, deployment_id, _ts(clock.now()))
        audit.append(store, ACTOR, "known_answer.watchlist_made", "deployment", deployment_id,
                     {"watchlist_id": watchlist_id, "rows": ledger.of(conn, "known_answer_watchlists",
                                                                      watchlist_id=watchlist_id)})
    return watchlist_id


def _pick(store: Store, deployment_id: int, model_id: str, rng: random.Random):
    """The least-shown item, of the kind (mated or not) shown less so far; None when the set is empty."""
    items = db.items_for(store, model_id)
    if not items:
        return None
    used = db.used_items(store, deployment_id)
    shown = {m: sum(used.get(int(i["id"]), 0) for i in items if int(i["mated"]) == m) for m in (0, 1)}
    kinds = {int(i["mated"]) for i in items}
    kind = min(kinds, key=lambda m: (shown[m], rng.random()))
    pool = [i for i in items if int(i["mated"]) == kind]
    least = min(used.get(int(i["id"]), 0) for i in pool)
    return rng.choice([i for i in pool if used.get(int(i["id"]), 0) == least])


def _looks_like(store: Store, deployment_id: int, rng: random.Random) -> dict:
    """Record fields shaped like the deployment's own entries (a record number of the same form, a
    category, legal basis and reason from a real entry), so that a test card reads like any other."""
    real = wl_db.entries_listed(store, deployment_id)
    model = rng.choice(real) if real else None
    form = model["record_number"] if model else "0000-0000"
    taken_numbers = db.record_numbers(store, _test_watchlist(store, deployment_id))
    number = form
    for attempt in range(200):  # a number of the same form, not used by another test entry
        number = "".join(str(rng.randrange(10)) if ch.isdigit() else ch for ch in form)
        if attempt > 20:
            number += str(rng.randrange(10, 100))
        if number not in taken_numbers:
            break
    first = rng.choice(("Alex", "Sam", "Jordan", "Chris", "Jamie", "Morgan", "Taylor", "Robin", "Lee", "Kim"))
    last = rng.choice(("Walker", "Hughes", "Patel", "Murphy", "Clarke", "Evans", "Khan", "Wright", "Green", "Ward"))
    taken = (clock.now() - timedelta(days=rng.randrange(60, 900))).date().isoformat()
    return {"record_number": number, "subject_name": f"{first} {last}",
            "category": model["category"] if model else "wanted_suspect",
            "legal_basis": model["legal_basis"] if model else "police powers", "reason": model["reason"] if model else "",
            "image_source": model["image_source"] if model else "custody image", "image_date": taken,
            "review_date": (clock.now() + timedelta(days=180)).date().isoformat()}


def inject(store: Store, deployment_id: int, rng: random.Random | None = None) -> int | None:
    """Make one test alert in the deployment's queue; its id, or None when there is no item or camera."""
    rng = rng or random.Random()
    dep = repo.get_deployment(store, deployment_id)
    s = settings(store, deployment_id)
    if dep is None or dep["state"] != "active":
        raise KnownAnswerError(f"deployment {deployment_id} is not active: test alerts go only into a live queue")
    cameras = sorted(camera_names(store, deployment_id))
    row = _pick(store, deployment_id, dep["model_id"], rng)
    if row is None or not cameras:
        return None
    item = db.item(store, int(row["id"]))
    added_by = s.get("by") or dep["authorised_by"]  # the supervisor who enabled the tests
    if added_by is None:
        raise KnownAnswerError("known-answer tests were never enabled for this deployment by a supervisor")
    added_by = int(added_by)
    watchlist_id = _test_watchlist(store, deployment_id)
    looks = _looks_like(store, deployment_id, rng)
    now = clock.now()
    camera_id = rng.choice(cameras)
    threshold = float(dep["threshold"])
    # Shown as an alert is: at or above the deployment's threshold (a real alert never scores below it,
    # so a lower score would give the test away). The model's own score stays in the set and the log.
    shown = max(float(item["score"]), threshold + rng.uniform(0.002, 0.03))
    quality = {"track_score": round(shown, 4), "track_margin": 0.0, "needed": round(threshold, 4), "views": 1,
               "strong_view": True, **json.loads(item["quality_json"])}
    with store.transaction() as conn:
        entry_id = repo.add_entry(store, watchlist_id, repo.EntrySpec(**looks), added_by, ACTOR)
        emb = np.frombuffer(bytes(item["photo_embedding"]), dtype=np.float32)
        image_id = repo.add_entry_image(store, entry_id, bytes(item["photo_jpeg"]), emb, dep["model_id"], {}, ACTOR)
        alert_id = repo.insert_alert(store, AlertRecord(
            deployment_id=deployment_id, camera_id=camera_id, track_id=repo.last_track_id(store, camera_id) + 1,
            candidates=[(entry_id, image_id, shown)], threshold=threshold,
            model_id=dep["model_id"], bbox=json.loads(item["bbox_json"]), quality=quality,
            probe_jpeg=bytes(item["probe_jpeg"]), context_jpeg=bytes(item["context_jpeg"]),
            captured_at=_ts(now - timedelta(seconds=rng.uniform(0.5, 2.0)))), actor_name=ACTOR)
        db.mark_alert(conn, alert_id, int(item["id"]), bool(item["mated"]), _ts(now))
        audit.append(store, ACTOR, "known_answer.made", "alert", alert_id,
                     {"item_id": int(item["id"]), "mated": bool(item["mated"]), "entry_id": entry_id,
                      "model_score": round(float(item["score"]), 4), "shown_score": round(shown, 4),
                      "rows": ledger.of(conn, "known_answer_alerts", alert_id=alert_id)})
    return alert_id


def is_test(store: Store, alert_id: int) -> bool:
    return db.test_of(store, alert_id) is not None


@dataclass(frozen=True)
class Reveal:
    alert_id: int
    mated: bool
    decision: str  # true_alert | false_alert
    correct: bool

    @property
    def text(self) -> str:
        truth = "these are the same person" if self.mated else "these are different people"
        said = "you confirmed the match" if self.decision == "true_alert" else "you rejected it"
        verdict = "right" if self.correct else "not right: nothing is done about a test, it is counted"
        return f"This was a known-answer test: {truth}; {said} - {verdict}."


def reveal(store: Store, actor: Actor, alert_id: int) -> Reveal | None:
    """After ``actor`` decided the alert: the truth, if it was a test (None for a real alert, and before
    any decision). The reveal is an audit entry."""
    actor.require(Permission.ADJUDICATE, store)
    test = db.test_of(store, alert_id)
    if test is None:
        return None
    first = [j for j in db.judged(store, db.deployment_of_alert(store, alert_id))
             if int(j["alert_id"]) == int(test["alert_id"])]
    if not first:
        return None
    decision = first[0]["decision"]
    shown = Reveal(int(test["alert_id"]), bool(test["mated"]), decision,
                   (decision == "true_alert") == bool(test["mated"]))
    audit.append(store, actor.username, "known_answer.revealed", "alert", int(test["alert_id"]),
                 {"mated": shown.mated, "decision": decision, "correct": shown.correct, "decided_by": first[0]["username"]})
    return shown


def judged(store: Store, deployment_id: int) -> list[dict]:
    """Each decided test (its first decision): the per-operator figures' known-answer source."""
    return [dict(r) for r in db.judged(store, deployment_id)]


def maybe_inject(store: Store, deployment_id: int, rng: random.Random | None = None) -> int | None:
    """The seats' timer: a test alert when one is due for the live deployment (its id), else None. The
    check and the making are one transaction, the deployment's row locked first, so that seats asking
    at once make one test, not one each."""
    with store.transaction() as conn:
        db.lock_deployment(conn, store, deployment_id)
        dep = repo.get_deployment(store, deployment_id)
        if dep is None or dep["state"] != "active" or not due(store, deployment_id):
            return None
        return inject(store, deployment_id, rng)
