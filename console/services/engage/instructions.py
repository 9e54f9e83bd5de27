"""What an engagement officer may and may not do, per watchlist category: set by a supervisor in
Set up for each deployment (a governed setting, ``deployment/<id>`` / ``engagement_instructions``),
and shown on the handheld beside every dispatched incident. The defaults below are a starting point
the force replaces with its own policy; every change is an audit entry with a reason."""

from __future__ import annotations

from console.domain import WatchlistCategory
from console.errors import ConsoleError
from console.services.accounts.auth import Actor
from console.services.accounts.permissions import Permission
from console.store import Store
from console.store.settings import get_setting, set_setting

KEY = "engagement_instructions"
MAX_LENGTH = 600

_VERIFY = ("The match is a lead, not an identification: confirm who the person is by other means (ask, documents,"
           " checks) before you act on it. ")
DEFAULTS: dict[str, str] = {
    WatchlistCategory.WANTED_BY_COURTS.value: _VERIFY + "You may stop the person and arrest on the warrant once their"
    " identity is confirmed. Do not search or arrest on the match alone.",
    WatchlistCategory.WANTED_SUSPECT.value: _VERIFY + "You may stop and speak to the person. Arrest only on your own"
    " grounds as the law requires; the match alone is not grounds.",
    WatchlistCategory.MISSING_PERSON.value: _VERIFY + "Approach with care and check they are safe. They are not"
    " suspected of an offence: no arrest, no search; tell them who is looking for them only if policy allows.",
    WatchlistCategory.VULNERABLE_PERSON.value: _VERIFY + "Safeguarding only: check they are safe and offer help."
    " No arrest, no search, no force unless life is at risk.",
    WatchlistCategory.RISK_TO_OTHERS.value: _VERIFY + "Keep your distance until support arrives if the risk"
    " requires; use force only as the law allows. Record what you did.",
    WatchlistCategory.BAIL_OR_ORDER_CONDITIONS.value: _VERIFY + "You may stop the person and check their conditions;"
    " arrest only for a breach you can establish, not for being seen.",
}


def scope(deployment_id: int) -> str:
    return f"deployment/{deployment_id}"


def current(store: Store, deployment_id: int) -> dict[str, str]:
    """Every category's instructions for the deployment (the defaults where none were set)."""
    saved = get_setting(store, scope(deployment_id), KEY) or {}
    return {c: str(saved.get(c) or DEFAULTS[c]) for c in WatchlistCategory.codes()}


def for_category(store: Store, deployment_id: int, category: str) -> str:
    return current(store, deployment_id).get(category, _VERIFY.strip())


def set_instructions(store: Store, supervisor: Actor, deployment_id: int, texts: dict[str, str], reason: str) -> None:
    """Replace the instructions of the categories given (the rest keep theirs)."""
    supervisor.require(Permission.MANAGE_DEPLOYMENT, store)
    if not reason.strip():
        raise ConsoleError("changing what officers may do needs a reason")
    unknown = sorted(set(texts) - set(WatchlistCategory.codes()))
    if unknown:
        raise ConsoleError(f"unknown watchlist category {', '.join(unknown)}; use one of {', '.join(WatchlistCategory.codes())}")
    merged = current(store, deployment_id)
    for category, text in texts.items():
        text = " ".join(str(text).split())
        if not text:
            raise ConsoleError(f"the instructions for {WatchlistCategory(category).label} cannot be empty")
        if len(text) > MAX_LENGTH:
            raise ConsoleError(f"the instructions for {WatchlistCategory(category).label} are over {MAX_LENGTH} characters")
        merged[category] = text
    set_setting(store, scope(deployment_id), KEY, merged, supervisor.user_id, supervisor.username, reason.strip())
