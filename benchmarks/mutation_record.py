"""``bench mutation`` targets (issue 32):
signing and sign-off keys, checkpoints, the Merkle tree, witnesses, the offline proof checker,
governed state, PostgreSQL authority (on a real server) and the bystander blur."""

from __future__ import annotations

from benchmarks.mutation_targets import Target  # noqa: F401  (used by the entries)

RECORD: dict[str, Target] = {
}
