"""Reading the audit log through its service, on SQLite and PostgreSQL."""

import pytest

from console.errors import PermissionDenied
from console.services.accounts import auth
from console.services.record import audit_trail
from console.services.setup import deployments
from console.store import audit
from tests.factories import small_deployment


@pytest.fixture
def trail(db):
    d = small_deployment(db, operators=("op",))
    audit.append(db, "sup", "test.a_b", "x", 1)
    audit.append(db, "sup", "test.axb", "x", 2)
    audit.append(db, "sup", "test%other", "x", 3)
    return db, d


def test_latest_filters_by_a_literal_prefix_oldest_first(trail):
    store, _ = trail
    sup = auth.actor_for(store, "sup")
    assert [e["action"] for e in audit_trail.latest(store, sup, "test.a_", 10)] == ["test.a_b"]  # _ is no wildcard
    assert [e["action"] for e in audit_trail.latest(store, sup, "test%", 10)] == ["test%other"]  # nor is %
    entries = audit_trail.latest(store, sup, "test", 2)
    assert [e["subject_id"] for e in entries] == ["2", "3"] and entries[0]["details"] == {}
    with pytest.raises(PermissionDenied):
        audit_trail.latest(store, auth.actor_for(store, "op"), "", 5)


def test_integrity_is_open_and_verify_is_for_the_audit_roles(trail):
    store, _ = trail
    assert audit_trail.integrity(store).ok
    assert audit_trail.verify(store, auth.actor_for(store, "sup")).ok
    with pytest.raises(PermissionDenied):
        audit_trail.verify(store, auth.actor_for(store, "op"))


def test_a_stop_names_who_when_and_why(trail):
    store, d = trail
    assert audit_trail.deployment_stop(store, d.deployment_id) is None
    deployments.stop(store, auth.actor_for(store, "op"), d.deployment_id, "fire alarm")
    stop = audit_trail.deployment_stop(store, d.deployment_id)
    assert (stop["by"], stop["role"], stop["reason"]) == ("op", "operator", "fire alarm") and stop["at"]
