"""``bench mutation`` targets (issue 32):
accounts and sign-in (auth, session, password policy), worker credentials, deployments and their
window, redaction of secrets, outbound and the handheld service."""

from __future__ import annotations

from benchmarks.mutation_targets import Target

_ATTACKS = "tests/unit/test_account_attacks.py"

ACCESS: dict[str, Target] = {
    # Sign-in, lockout, accounts. The timing test (5 s: it measures refusals) is left out; the
    # lockout and scrypt tests of test_accountability are in.
    "auth": Target("console/services/accounts/auth.py",
                   (_ATTACKS, "tests/unit/test_accountability.py", "tests/unit/test_fatigue.py",
                    "tests/unit/test_mutants_auth.py", "tests/unit/test_mutants_auth_tries.py"),
                   keyword="not timing_attack and not every_service and not pipeline_stops",
                   sampled=False),  # its survivors in the PostgreSQL branches are auth_pg's (run there, not here)
    # The same sign-in on PostgreSQL, where the tries and the lock are the database's functions':
    # only the two functions with a PostgreSQL branch (the lines the SQLite run above never reaches).
    "auth_pg": Target("console/services/accounts/auth.py",
                      ("tests/unit/test_mutants_auth.py", "tests/unit/test_mutants_auth_tries.py",
                       "tests/unit/test_security_pg_seat.py",
                       "tests/unit/test_security_pg_doors.py"),
                      keyword="mutants_auth or lock", only=("x__take_a_try*", "x__authenticate*"),
                      postgres=True),
    "session": Target("console/services/accounts/session.py",
                      (_ATTACKS, "tests/unit/test_fatigue.py", "tests/unit/test_mutants_session.py"),
                      keyword="not timing_attack",
                      only=("x_open_store*", "x_prepare*", "x_login*", "x_unlock*", "x_record_lock*")),
    # Granting a seat's PostgreSQL login role: only on a real server.
    "session_seat": Target("console/services/accounts/session.py", ("tests/unit/test_mutants_session.py",),
                           keyword="grant_seat", only=("x_grant_seat*",), postgres=True),
    "password_policy": Target("console/services/accounts/password_policy.py",
                              (_ATTACKS, "tests/unit/test_mutants_password_policy.py"),
                              keyword="not timing_attack"),
    "worker_access": Target("console/services/accounts/worker_access.py",
                            ("tests/unit/test_security_workers.py", "tests/unit/test_mutants_worker_access.py")),
    # Whether a deployment may recognise now (its window), and its governed settings.
    "deployments": Target("console/services/setup/deployments.py",
                          ("tests/unit/test_accountability.py", "tests/unit/test_deployment_setup.py",
                           "tests/unit/test_mutants_deployments.py", "tests/unit/test_mutants_deployments_changes.py"),
                          keyword="not every_service and not pipeline_stops and not camera_test"),
    "redaction": Target("console/redaction.py",
                        ("tests/unit/test_redaction.py", "tests/unit/test_mutants_redaction.py")),
    "outbound": Target("console/services/decisions/outbound.py",
                       ("tests/unit/test_outbound_webhook.py", "tests/unit/test_mutants_outbound.py",
                        "tests/unit/test_mutants_outbound_sender.py",
                        "tests/unit/test_known_answer.py::test_no_test_reaches_dispatch_outbound_an_outcome_or_a_figure")),
    "guard": Target("console/handheld/guard.py",
                    ("tests/unit/test_handheld_web.py", "tests/unit/test_mutants_guard.py")),
}
