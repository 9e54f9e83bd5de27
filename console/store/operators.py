"""The reads behind the per-operator figures (console/services/accuracy/operators.py): each
operator's own decisions, the blind second looks at them, and when each one signed in.

The statements are written once, with ``?`` placeholders, for SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from console.store.base import Store


def first_decisions(store: Store, deployment_id: int) -> list:
    """Each decision of the deployment that is a person's own judgement (not a correction of
    another's), oldest first: id, alert_id, user_id, username, decision, reason_code, duration_ms, decided_at."""
    return store.query(
        "SELECT d.id, d.alert_id, d.user_id, u.username, d.decision, d.reason_code, d.duration_ms, d.decided_at"
        " FROM decisions d JOIN alerts a ON a.id = d.alert_id JOIN users u ON u.id = d.user_id"
        " WHERE a.deployment_id = ? AND a.id NOT IN (SELECT alert_id FROM known_answer_alerts)"
        " AND d.supersedes IS NULL ORDER BY d.id",
        (deployment_id,),
    )


def blind_looks(store: Store, deployment_id: int) -> list:
    """Each blind second look at a decision of the deployment, oldest first, beside the decision it
    looked at again (the alert's latest decision when the sample was drawn): decision_id, user_id,
    username, decision, decided_at, blind_decision, blind_by."""
    return store.query(
        "SELECT d.id AS decision_id, d.user_id, u.username, d.decision, d.decided_at, s.blind_decision,"
        " s.decided_by AS blind_by FROM review_samples s JOIN alerts a ON a.id = s.alert_id"
        " JOIN decisions d ON d.id = (SELECT MAX(x.id) FROM decisions x WHERE x.alert_id = s.alert_id"
        "   AND x.decided_at <= s.drawn_at)"
        " JOIN users u ON u.id = d.user_id"
        " WHERE a.deployment_id = ? AND s.blind_decision IS NOT NULL ORDER BY s.id",
        (deployment_id,),
    )


def sign_ins(store: Store) -> list:
    """Every successful sign-in in the audit log, in order: user_id (as text), at, details_json (a
    sign-in made for something else - a password change, a sign-off - says so in its details)."""
    return store.query(
        "SELECT subject_id AS user_id, at, details_json FROM audit_log WHERE action = 'login.succeeded'"
        " AND subject_type = 'user' ORDER BY seq",
    )

