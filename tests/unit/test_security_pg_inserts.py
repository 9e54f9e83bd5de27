"""Each row-level security rule on inserting (console/store/pg_authority.py INSERT_RULES and
SETUP_RULES), tried with a seat's credential in psql, as the SQL mutation check found them
untried (issue 32): nobody signed in, the wrong role, the right role in another person's name, and
the right role in their own name, which must pass. Updates too, where a rule limits them."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from console.services.accounts import auth
from console.store import open_location
from tests.unit.test_security_pg_seat import PASSWORD, _alert, _as, _people, _refused, seat_url  # noqa: F401

T = "'2026-01-01T00:00:00Z'"


def _u() -> str:
    return uuid.uuid4().hex[:8]


# table -> (INSERT with {me} for the writer's own id, the roles that may, the update the rule limits or None)
RULES = {
    "engagements": ("INSERT INTO engagements(alert_id, recorded_by, result, recorded_at) VALUES ({alert}, {me},"
                    " 'not_located', " + T + ")", ("operator", "supervisor"), None),
    "report_signoffs": ("INSERT INTO report_signoffs(deployment_id, user_id, signed_at, record_sha256) VALUES ({draft},"
                        " {me}, " + T + ", 'x')", ("supervisor",), None),
    "users": ("INSERT INTO users(username, display_name, role, created_at) VALUES ('u{u}', 'U', 'operator', " + T + ")",
              ("administrator",), None),
    "deployments": ("INSERT INTO deployments(name, location, rationale, starts_at, ends_at, threshold, threshold_floor,"
                    " model_id, created_at) VALUES ('d{u}', 'P', 'R', " + T + ", '2099-01-01T00:00:00Z', 0.5, 0.363,"
                    " 'm', " + T + ")", ("supervisor",), None),
    "watchlists": ("INSERT INTO watchlists(deployment_id, name, created_at) VALUES ({draft}, 'w{u}', " + T + ")",
                   ("supervisor",), None),
    "watchlist_entries": ("INSERT INTO watchlist_entries(watchlist_id, record_number, subject_name, category, legal_basis,"
                          " reason, image_source, image_date, added_by, added_at, review_date) VALUES ({draft_wl},"
                          " 'r{u}', 'S', 'missing_person', 'b', 'r', 's', '2025-01-01', {me}, " + T + ", '2099-01-01')",
                          ("supervisor",), None),
    "cameras": ("INSERT INTO cameras(deployment_id, name, source, created_at) VALUES ({draft}, 'c{u}', 'demo:0', "
                + T + ")", ("administrator", "supervisor"), None),
    "worker_credentials": ("INSERT INTO worker_credentials(deployment_id, label, secret_sha256, issued_by, issued_at,"
                           " expires_at) VALUES ({draft}, 'l{u}', 's{u}', {me}, " + T + ", '2099-01-01T00:00:00Z')",
                           ("administrator",), "UPDATE worker_credentials SET revoked_at = " + T),
    "settings": ("INSERT INTO settings(scope, key, value_json, updated_at) VALUES ('ui', 'k{u}', '1', " + T + ")",
                 ("administrator", "supervisor"), "UPDATE settings SET value_json = '2'"),
    "deployment_checks": ("INSERT INTO deployment_checks(deployment_id, item, ticked_by, ticked_at) VALUES ({draft},"
                          " 'i{u}', {me}, " + T + ")", ("supervisor",), None),
    "camera_credentials": ("INSERT INTO camera_credentials(camera_id, userinfo) VALUES ({fresh_camera}, 'x')",
                           ("administrator", "supervisor"), None),  # no seat holds UPDATE on it (pg_roles.py)
}
PEOPLE = {"operator": "ann", "supervisor": "sup", "administrator": "chief", "auditor": "aud"}


@pytest.mark.parametrize("table", sorted(RULES))
def test_security_only_the_right_role_inserts_and_only_in_its_own_name_refused(seat_url, table):  # noqa: F811
    url, owner_url = seat_url
    ids = _people(owner_url)
    sql, allowed, update = RULES[table]
    with open_location(owner_url) as owner, owner.transaction() as conn:  # a draft deployment to write against
        draft = conn.execute("INSERT INTO deployments(name, location, rationale, starts_at, ends_at, threshold,"
                             " threshold_floor, model_id, created_at) VALUES ('Draft', 'P', 'R', " + T + ","
                             " '2099-01-01T00:00:00Z', 0.5, 0.363, 'm', " + T + ")").lastrowid
        draft_wl = conn.execute("INSERT INTO watchlists(deployment_id, name, created_at) VALUES (?, 'WL', " + T + ")",
                                (draft,)).lastrowid
    with open_location(url) as seat:
        alert = _alert(seat)
        tokens = {role: auth.login(seat, name, PASSWORD).token for role, name in PEOPLE.items()}
    with open_location(owner_url) as owner, owner.transaction() as conn:
        cameras = [conn.execute("INSERT INTO cameras(deployment_id, name, source, created_at) VALUES (?, ?, 'demo:1', "
                                + T + ")", (draft, f"cam {i}")).lastrowid for i in range(8)]

    def filled(me: int) -> str:
        return sql.format(me=me, u=_u(), alert=alert, draft=draft, draft_wl=draft_wl, fresh_camera=cameras.pop())

    with psycopg.connect(url, autocommit=True) as raw:
        _as(raw, "")
        _refused(raw, filled(ids["sup"]))  # nobody signed in
        for role, token in tokens.items():
            _as(raw, token)
            me = ids[PEOPLE[role]]
            if role not in allowed:
                _refused(raw, filled(me))  # the wrong role, even in its own name
                continue
            if "{me}" in sql:
                _refused(raw, filled(ids["bob"]))  # the right role in another person's name
            raw.execute(filled(me))  # ... and in its own: the control
        if update:
            for role, token in tokens.items():
                _as(raw, token)
                if role in allowed:
                    assert raw.execute(update).rowcount > 0, role
                    continue
                try:  # refused outright, or every row hidden from the update by the rule
                    assert raw.execute(update).rowcount == 0, role
                except psycopg.errors.InsufficientPrivilege:
                    pass
