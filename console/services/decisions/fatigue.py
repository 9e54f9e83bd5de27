"""Time at the seat without a break, and the prompt to hand over (issue 29, item 4).

People who match unfamiliar faces for hours get worse at it, and the confirmation of a tired operator
is a weaker safeguard. So the console counts each operator's current spell at the seat - from the
latest of their sign-in (which is how a hand-over reaches the next user: they sign in on the
hand-over screen), the end of their last break, their own hand-over, or the moment this seat took
them on - and after the deployment's configured period asks them to hand over or take a break.

Everything comes from the audit log, so a restart or another seat reads the same spell, and the
prompt, the answer and each break are entries of their own. The period is a governed setting of the
deployment (``deployment/<id>`` / ``fatigue``), changed only by a supervisor, with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from console import clock
from console.errors import ConsoleError
from console.services.accounts.auth import Actor
from console.services.accounts.permissions import Permission
from console.services.decisions.handover import HANDOVER
from console.store import Store, audit
from console.store.seat_spells import recent_entries
from console.store.settings import get_setting, set_setting

KEY = "fatigue"
DEFAULTS = {"ask_after_min": 120}
LIMITS_MIN = (15, 720)  # a period outside this is refused: no prompt every minute, none never
REPEAT_MIN = 15  # an ignored prompt comes back this often
SEAT_OPENING_S = 600  # a sign-in this long before the seat took the operator on is the spell's start
SIGN_IN, UNLOCKED = "login.succeeded", "session.unlocked"
BREAK_STARTED, BREAK_ENDED = "seat.break_started", "seat.break_ended"
PROMPTED, ANSWERED = "seat.fatigue_prompted", "seat.fatigue_answered"
RESPONSES = ("hand_over", "break", "later")
_STARTS = {SIGN_IN: "sign-in", BREAK_ENDED: "the end of a break", HANDOVER: "a hand-over"}


def scope(deployment_id: int) -> str:
    return f"deployment/{deployment_id}"


def _wall(ts: str) -> float:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def at_seat_text(seconds: float) -> str:
    """'2 h 00 min', '45 min': whole minutes, never rounded up."""
    minutes = max(0, int(seconds // 60))
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


@dataclass(frozen=True)
class Spell:
    """An operator's current spell at the seat: since when, what began it, and the deployment's period."""

    username: str
    started_at: str
    since: str
    ask_after_min: int
    on_break: bool = False

    def seconds(self, now: float | None = None) -> float:
        return max(0.0, (clock.wall() if now is None else now) - _wall(self.started_at))

    def due(self, now: float | None = None) -> bool:
        return not self.on_break and self.seconds(now) >= self.ask_after_min * 60

    def text(self, now: float | None = None) -> str:
        return at_seat_text(self.seconds(now))


# -- the setting ----------------------------------------------------------------------------
def config(store: Store, deployment_id: int) -> dict:
    """The deployment's fatigue setting, the defaults where none was set (unknown keys ignored)."""
    saved = get_setting(store, scope(deployment_id), KEY) or {}
    return {k: int(saved.get(k, v)) for k, v in DEFAULTS.items()}


def configure(store: Store, supervisor: Actor, deployment_id: int, ask_after_min: int, reason: str) -> dict:
    """Set after how many minutes at the seat the deployment's operators are asked to hand over."""
    supervisor.require(Permission.MANAGE_DEPLOYMENT, store)
    if not reason.strip():
        raise ConsoleError("changing when operators are asked to hand over needs a reason")
    low, high = LIMITS_MIN
    if not isinstance(ask_after_min, int) or not low <= ask_after_min <= high:
        raise ConsoleError(f"ask after {ask_after_min!r} minutes: give whole minutes from {low} to {high}")
    value = {**config(store, deployment_id), "ask_after_min": ask_after_min}
    set_setting(store, scope(deployment_id), KEY, value, supervisor.user_id, supervisor.username, reason.strip())
    return value


# -- the spell ------------------------------------------------------------------------------
def spell(store: Store, actor: Actor, deployment_id: int, seated_at: str | None = None) -> Spell:
    """The operator's current spell. ``seated_at``: when this seat took the operator on (a seat opened
    without a sign-in, as the demo's is, has no sign-in entry to go by); a sign-in up to
    ``SEAT_OPENING_S`` before it is the one that seated them (the deployment opens in between)."""
    period = config(store, deployment_id)["ask_after_min"]
    unlock = False
    for entry in recent_entries(store, actor.username, (SIGN_IN, UNLOCKED, BREAK_STARTED, BREAK_ENDED, HANDOVER)):
        if entry["action"] == UNLOCKED:
            unlock = True  # the sign-in just before it is the password given again after the idle lock
            continue
        if entry["action"] == SIGN_IN and (unlock or entry["details"].get("for")):
            unlock = False
            continue  # after the idle lock, or to change the password: no break
        if entry["action"] == BREAK_STARTED:
            return Spell(actor.username, entry["at"], "a break", period, on_break=True)
        if seated_at is not None and _wall(entry["at"]) < _wall(seated_at) - SEAT_OPENING_S:
            break  # from before this seat took the operator on (an earlier run of the console)
        return Spell(actor.username, entry["at"], _STARTS[entry["action"]], period)
    return Spell(actor.username, seated_at or clock.utcnow(), "the seat opened", period)


def should_prompt(current: Spell, last_prompt: float | None, now: float | None = None) -> bool:
    """Due, and not asked in the last ``REPEAT_MIN`` minutes (``last_prompt``: wall seconds, or None)."""
    now = clock.wall() if now is None else now
    return current.due(now) and (last_prompt is None or now - last_prompt >= REPEAT_MIN * 60)


def _details(current: Spell) -> dict:
    return {"minutes_at_seat": int(current.seconds() // 60), "since": current.since, "started_at": current.started_at,
            "ask_after_min": current.ask_after_min}


def record_prompt(store: Store, actor: Actor, deployment_id: int, current: Spell, repeat: int) -> None:
    """The prompt was shown (``repeat``: how many were shown before it in this spell, unanswered)."""
    actor.require(Permission.ADJUDICATE, store)
    audit.append(store, actor.username, PROMPTED, "deployment", deployment_id,
                 {"user_id": actor.user_id, "repeat": repeat, **_details(current)})


def answer(store: Store, actor: Actor, deployment_id: int, response: str, current: Spell) -> None:
    """What the operator did with the prompt: handed over, took a break, or put it off."""
    if response not in RESPONSES:
        raise ConsoleError(f"unknown answer {response!r}; one of {', '.join(RESPONSES)}")
    actor.require(Permission.ADJUDICATE, store)
    audit.append(store, actor.username, ANSWERED, "deployment", deployment_id,
                 {"user_id": actor.user_id, "response": response, **_details(current)})


def start_break(store: Store, actor: Actor, deployment_id: int, seated_at: str | None = None) -> Spell:
    """The operator leaves the seat for a break; the spell stops counting. Returns the spell that ended."""
    actor.require(Permission.ADJUDICATE, store)
    ended = spell(store, actor, deployment_id, seated_at)
    if not ended.on_break:
        audit.append(store, actor.username, BREAK_STARTED, "deployment", deployment_id,
                     {"user_id": actor.user_id, **_details(ended)})
    return ended


def end_break(store: Store, actor: Actor, deployment_id: int) -> Spell:
    """Back at the seat (the password given again): a new spell begins. Returns it."""
    actor.require(Permission.ADJUDICATE, store)
    current = spell(store, actor, deployment_id)
    if current.on_break:
        audit.append(store, actor.username, BREAK_ENDED, "deployment", deployment_id,
                     {"user_id": actor.user_id, "break_started_at": current.started_at,
                      "break_min": int(current.seconds() // 60)})
        current = spell(store, actor, deployment_id)
    return current
