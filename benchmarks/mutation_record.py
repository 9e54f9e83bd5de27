"""``bench mutation`` targets (issue 32):
signing and sign-off keys, checkpoints, the Merkle tree, witnesses, the offline proof checker,
governed state, PostgreSQL authority (on a real server) and the bystander blur."""

from __future__ import annotations

from benchmarks.mutation_targets import Target

RECORD: dict[str, Target] = {
    # The file a court or a regulator copies alone to check a proof: every line of it matters.
    "proof_check": Target("console/store/proof_check.py",
                          ("tests/unit/test_mutants_proof_check.py", "tests/unit/test_security_checkpoints.py"),
                          # that test reads the file's imports, and a mutated copy imports mutmut
                          keyword="not needs_only_python"),
    "merkle": Target("console/store/merkle.py",
                     ("tests/unit/test_merkle.py", "tests/unit/test_mutants_proof_check.py",
                      "tests/unit/test_security_checkpoints.py")),
}
