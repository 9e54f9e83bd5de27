"""``bench mutation`` targets (issue 32):
accounts and sign-in (auth, session, password policy), worker credentials, deployments and their
window, redaction of secrets, outbound and the handheld service."""

from __future__ import annotations

from benchmarks.mutation_targets import Target  # noqa: F401  (used by the entries)

ACCESS: dict[str, Target] = {
}
