"""What each role may do: the one table of role rules.

Every rule about roles lives here, keyed by the roles of console.domain.Role: the services ask
``actor.may(Permission.X)`` / ``actor.require(Permission.X, store)`` (console/services/accounts/auth.py),
and the window asks the same (and names the roles on its buttons with ``who``), so that no module
compares a role itself (tests/unit/test_house.py looks). A recognition worker is not an account and
has no Role: its credential (console/services/accounts/worker_access.py) may only what WORKER_MAY says.
"""

from __future__ import annotations

from enum import StrEnum

from console.domain import Role
from console.errors import ConsoleError


class Permission(StrEnum):
    ADJUDICATE = "adjudicate"
    DECIDE_ESCALATED = "decide_escalated"  # an escalated alert: seen and decided by these roles only
    CORRECT_DECISION = "correct_decision"
    START_RECOGNITION = "start_recognition"
    MANAGE_WORKERS = "manage_workers"
    RECORD_ENGAGEMENT = "record_engagement"
    ENROL = "enrol"
    ENROL_UNDER_18 = "enrol_under_18"  # with a written justification (console/services/setup/enrol.py)
    MANAGE_DEPLOYMENT = "manage_deployment"
    AUTHORISE_DEPLOYMENT = "authorise_deployment"  # also: amend a frozen watchlist, with a logged reason
    CHANGE_THRESHOLD = "change_threshold"
    MANAGE_USERS = "manage_users"
    MANAGE_CAMERAS = "manage_cameras"
    MANAGE_RETENTION = "manage_retention"
    MANAGE_WITNESSES = "manage_witnesses"  # the folders audit checkpoints are written to
    MANAGE_OUTBOUND = "manage_outbound"  # where confirmed alerts go to dispatch (console/services/decisions/outbound.py)
    RUN_PURGE = "run_purge"
    VIEW_AUDIT = "view_audit"
    STOP_RECOGNITION = "stop_recognition"  # operators only where the deployment allows it
    STOP_ANY_DEPLOYMENT = "stop_any_deployment"  # whatever the deployment's own setting
    RESTART_RECOGNITION = "restart_recognition"
    EXPORT_ALERT = "export_alert"
    VIEW_DECISIONS = "view_decisions"
    VIEW_WATCHLIST = "view_watchlist"
    VIEW_USERS = "view_users"
    PAIR_HANDHELD = "pair_handheld"  # pair an officer's phone to a deployment, and revoke it (console/services/engage)
    DISPATCH = "dispatch"  # send a confirmed incident to the officers, and follow its delivery
    RECEIVE_DISPATCH = "receive_dispatch"  # see a dispatched incident on a paired handheld, and report its outcome
    SUPERVISE_OPERATORS = "supervise_operators"  # set the rule that flags an operator, record what was done about one


OPERATOR, ENGAGEMENT, SUPERVISOR, ADMINISTRATOR, AUDITOR = (Role.OPERATOR, Role.ENGAGEMENT_OFFICER, Role.SUPERVISOR,
                                                            Role.ADMINISTRATOR, Role.AUDITOR)

# Permission -> the roles that have it. A new permission needs a row (tests/unit/test_permissions.py).
TABLE: dict[Permission, frozenset[Role]] = {p: frozenset(roles) for p, roles in {
    Permission.ADJUDICATE: {OPERATOR, SUPERVISOR},
    Permission.DECIDE_ESCALATED: {SUPERVISOR},
    Permission.CORRECT_DECISION: {SUPERVISOR},
    Permission.START_RECOGNITION: {OPERATOR, SUPERVISOR},  # and a worker's credential (WORKER_MAY)
    Permission.MANAGE_WORKERS: {ADMINISTRATOR},
    Permission.RECORD_ENGAGEMENT: {OPERATOR, ENGAGEMENT, SUPERVISOR},
    Permission.ENROL: {SUPERVISOR},
    Permission.ENROL_UNDER_18: {SUPERVISOR},
    Permission.MANAGE_DEPLOYMENT: {SUPERVISOR},
    Permission.AUTHORISE_DEPLOYMENT: {SUPERVISOR},
    Permission.CHANGE_THRESHOLD: {SUPERVISOR},
    Permission.MANAGE_USERS: {ADMINISTRATOR},
    Permission.MANAGE_CAMERAS: {ADMINISTRATOR, SUPERVISOR},
    Permission.MANAGE_RETENTION: {ADMINISTRATOR},
    Permission.MANAGE_WITNESSES: {ADMINISTRATOR},
    Permission.MANAGE_OUTBOUND: {ADMINISTRATOR},
    Permission.RUN_PURGE: {ADMINISTRATOR, SUPERVISOR},
    Permission.VIEW_AUDIT: {SUPERVISOR, ADMINISTRATOR, AUDITOR},
    Permission.STOP_RECOGNITION: {SUPERVISOR, OPERATOR},
    Permission.STOP_ANY_DEPLOYMENT: {SUPERVISOR},
    Permission.RESTART_RECOGNITION: {SUPERVISOR},
    Permission.EXPORT_ALERT: {SUPERVISOR},
    Permission.VIEW_DECISIONS: {SUPERVISOR, AUDITOR},
    Permission.VIEW_WATCHLIST: {SUPERVISOR, AUDITOR},
    Permission.VIEW_USERS: {ADMINISTRATOR, SUPERVISOR, AUDITOR},
    Permission.PAIR_HANDHELD: {SUPERVISOR},
    Permission.DISPATCH: {OPERATOR, SUPERVISOR},
    Permission.RECEIVE_DISPATCH: {ENGAGEMENT},
    Permission.SUPERVISE_OPERATORS: {SUPERVISOR},
}.items()}

WORKER = "worker"  # the role a worker's credential acts under (not an account's Role)
WORKER_MAY: frozenset[Permission] = frozenset({Permission.START_RECOGNITION})

def permission(name: str) -> Permission:
    """``name`` as a Permission, or a clear error naming the known ones."""
    try:
        return Permission(name)
    except ValueError:
        raise ConsoleError(f"unknown permission {name!r}; use one of {', '.join(Permission)}") from None


def allows(role: str, name: str) -> bool:
    """Whether ``role`` (an account's role, or a worker's) has the permission ``name``."""
    wanted = permission(name)
    if role == WORKER:
        return wanted in WORKER_MAY
    return role in TABLE[wanted]


def is_role(role: str) -> bool:
    """Whether ``role`` is one an account may have (a domain.Role)."""
    return role in Role.codes()


def is_worker(role: str) -> bool:
    """Whether this is a worker's credential rather than a person's account."""
    return role == WORKER


def roles_for(name: str) -> tuple[str, ...]:
    """The roles that have the permission ``name`` (a worker's among them where WORKER_MAY says), by code."""
    wanted = permission(name)
    return tuple(sorted({*TABLE[wanted], *([WORKER] if wanted in WORKER_MAY else [])}))


def who(name: str) -> str:
    """The roles that have ``name`` as a button's caption names them: "supervisor", "administrator or supervisor"."""
    return " or ".join(Role(r).label.lower() for r in roles_for(name) if r != WORKER)


def who_words(name: str) -> str:
    """The same, as a sentence names them: "a supervisor", "an administrator or a supervisor"."""
    return " or ".join(with_article(r) for r in roles_for(name) if r != WORKER)


def who_plural(name: str) -> str:
    """The same, for all of them: "operators and supervisors"."""
    return " and ".join(f"{Role(r).label.lower()}s" for r in roles_for(name) if r != WORKER)


def with_article(role: str) -> str:
    label = Role(role).label.lower() if role in Role.codes() else str(role)
    return f"{'an' if label[:1] in 'aeiou' else 'a'} {label}"


def what_may(role: str) -> frozenset[Permission]:
    """Everything ``role`` may do (the window asks this, never the role itself)."""
    return frozenset(p for p in Permission if allows(role, p))
