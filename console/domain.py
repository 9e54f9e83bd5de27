"""The console's vocabularies and plain records, in one place.

Every fixed list the law or the workflow asks for (roles, watchlist categories, decisions,
reject reasons, engagement results and actions, deployment states, equality fields) is an
enum here, each member with the label a person reads. The database's CHECK constraints were
written from these lists when their migrations were released and never change with them:
a new member needs a new migration (tests/unit/test_domain.py holds the two together).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Vocabulary(StrEnum):
    """A fixed list: each member is its stored code (a str) and carries a label for people."""

    label: str

    def __new__(cls, value: str, label: str = ""):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label or value.replace("_", " ").capitalize()
        return member

    @classmethod
    def codes(cls) -> tuple[str, ...]:
        return tuple(m.value for m in cls)

    @classmethod
    def labels(cls) -> dict[str, str]:
        return {m.value: m.label for m in cls}

    @classmethod
    def check(cls, value: str, what: str) -> None:
        """ValueError naming the allowed codes unless ``value`` is one of them."""
        if value not in cls.codes():
            raise ValueError(f"unknown {what} {value!r}; use one of {', '.join(cls.codes())}")


class Role(Vocabulary):
    OPERATOR = "operator", "Operator"
    ENGAGEMENT_OFFICER = "engagement_officer", "Engagement officer"
    SUPERVISOR = "supervisor", "Supervisor"
    ADMINISTRATOR = "administrator", "Administrator"
    AUDITOR = "auditor", "Auditor"


class WatchlistCategory(Vocabulary):
    """Who may be on a watchlist is a category from a fixed list, not officer discretion."""

    WANTED_BY_COURTS = "wanted_by_courts", "Wanted by the courts"
    WANTED_SUSPECT = "wanted_suspect", "Wanted suspect"
    MISSING_PERSON = "missing_person", "Missing person"
    VULNERABLE_PERSON = "vulnerable_person", "Vulnerable person"
    RISK_TO_OTHERS = "risk_to_others", "Risk to others"
    BAIL_OR_ORDER_CONDITIONS = "bail_or_order_conditions", "Bail or order conditions"

    @property
    def priority(self) -> int:
        """1 comes first and sounds more urgently: a risk to others, or a vulnerable person
        who may need help now. Everything else is 2."""
        return 1 if self in (WatchlistCategory.RISK_TO_OTHERS, WatchlistCategory.VULNERABLE_PERSON) else 2


def category_priority(code: str | None) -> int:
    return WatchlistCategory(code).priority if code in WatchlistCategory.codes() else 2


class Decision(Vocabulary):
    TRUE_ALERT = "true_alert", "Confirmed match"
    FALSE_ALERT = "false_alert", "Rejected: not a match"


class RejectReason(Vocabulary):
    DIFFERENT_PERSON = "different_person", "Different person"
    IMAGE_TOO_POOR = "image_too_poor", "Image too poor to decide"
    LOOK_ALIKE = "look_alike", "Look-alike"
    DUPLICATE = "duplicate", "Duplicate of an earlier alert (retired)"
    TEST = "test", "Test alert"

    @classmethod
    def offered(cls) -> dict[str, str]:
        """The reasons a reviewer may give today. "Duplicate" is retired: repeats of one person are
        one incident, decided once; old records keep it, and figures count it apart, not as false."""
        return {m.value: m.label for m in cls if m is not cls.DUPLICATE}


class EngagementResult(Vocabulary):
    CONFIRMED_TRUE = "confirmed_true", "Confirmed: same person"
    CONFIRMED_FALSE = "confirmed_false", "Confirmed: not the person"
    NOT_LOCATED = "not_located", "Not located"


class EngagementAction(Vocabulary):
    ARREST = "arrest", "Arrest"
    WORDS_OF_ADVICE = "words_of_advice", "Words of advice"
    NO_FURTHER_ACTION = "no_further_action", "No further action"
    OTHER = "other", "Other (note required)"


class DeploymentState(Vocabulary):
    """draft -> authorised -> active <-> stopped -> ended. Only an active deployment recognises
    (the database refuses alerts for any other); stopped is the human-oversight stop."""

    DRAFT = "draft", "Draft"
    AUTHORISED = "authorised", "Authorised"
    ACTIVE = "active", "Active"
    STOPPED = "stopped", "Stopped"
    ENDED = "ended", "Ended"


class AlertStatus(Vocabulary):
    PENDING = "pending", "Pending"
    DECIDED = "decided", "Decided"


class AlertEvent(Vocabulary):
    OPENED = "opened", "Opened"
    ESCALATED = "escalated", "Escalated"
    RETURNED = "returned", "Returned to the queue"


class DispatchStage(Vocabulary):
    """How far a dispatched incident got on one officer's handheld (console/services/engage/dispatch.py)."""

    DELIVERED = "delivered", "Delivered"
    SEEN = "seen", "Seen"
    CLOSED = "closed", "Outcome reported"


class Sex(Vocabulary):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    NOT_STATED = "not_stated", "Not stated"


class EthnicGroup(Vocabulary):
    ASIAN = "asian", "Asian"
    BLACK = "black", "Black"
    MIXED = "mixed", "Mixed"
    WHITE = "white", "White"
    OTHER = "other", "Other"
    NOT_STATED = "not_stated", "Not stated"


@dataclass(frozen=True)
class AlertRecord:
    """A candidate match as the pipeline raises it and the store keeps it."""

    deployment_id: int
    camera_id: int
    track_id: int
    candidates: list[tuple[int, int | None, float]]  # (entry_id, image_id, score), best first
    threshold: float
    model_id: str
    bbox: list[float]
    quality: dict
    probe_jpeg: bytes
    context_jpeg: bytes
    captured_at: str
    # The write's idempotency key (""; none): a write retried after a connection lost at its commit
    # finds the alert it made instead of making a second one (console/store/alerts.py).
    key: str = ""
