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
    # The installation key's countersignature of each sign-off key entry (issue 32's third door).
    "countersign": Target("console/store/countersign.py",
                          ("tests/unit/test_security_key_countersign.py", "tests/unit/test_mutants_countersign.py")),
    # Sign-off keys: made at sign-in, opened by the password, checked by `audit verify`.
    "signing_keys": Target("console/services/record/signing_keys.py",
                           ("tests/unit/test_security_signoff_keys.py", "tests/unit/test_security_key_countersign.py",
                            "tests/unit/test_mutants_signing_keys.py")),
    # Signed checkpoints of the log: made, published to witness folders, checked. (Every append runs
    # after_commit, so every test of the selection reaches most of the module: a short selection.)
    "checkpoints": Target("console/store/checkpoints.py",
                          ("tests/unit/test_security_checkpoints.py", "tests/unit/test_verify_one_pass.py",
                           "tests/unit/test_mutants_checkpoints.py")),
    "witness": Target("console/store/witness.py",
                      ("tests/unit/test_security_checkpoints.py", "tests/unit/test_verify_one_pass.py",
                       "tests/unit/test_mutants_witness.py")),
    # Governed state: each governed row replayed from the log and compared with the table. On both
    # databases: a seat on PostgreSQL may not read password hashes, and its row keys keep their case.
    "governed": Target("console/store/governed.py",
                       ("tests/unit/test_governed_state.py", "tests/unit/test_mutants_governed.py"), postgres=True),
    # Blurring every face but the alerted one in an alert's context frame (real detector).
    "bystanders": Target("console/vision/bystanders.py",
                         ("tests/unit/test_bystanders.py", "tests/unit/test_blur_independent.py",
                          "tests/unit/test_mutants_bystanders.py"),
                         only=("x_*", "xǁBystanderBlurǁ_pass*", "xǁBystanderBlurǁfind_faces*", "xǁBystanderBlurǁblur*"),
                         needs_models=True, sampled=False),
}
