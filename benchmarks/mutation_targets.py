"""Which modules ``bench mutation`` mutates, and the fast tests that should kill their mutants.

The table is in parts, one per group of safeguards, so that each group's entries live beside
each other: the first five (issue 19) here (CORE); accounts, sign-in, worker credentials, deployments,
redaction, outbound and the handheld service in ``mutation_access.py``; signing, checkpoints, the
Merkle tree, witnesses, the proof checker, governed state, PostgreSQL authority and the bystander
blur in ``mutation_record.py`` (issue 32).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    path: str  # the module, relative to the checkout
    tests: tuple[str, ...]  # files (or node ids) that should kill its mutants
    keyword: str = ""  # a pytest -k expression narrowing those files
    only: tuple[str, ...] = ()  # mutate only these functions (mutmut names, globs); () = all
    needs_models: bool = False  # the tests load the shipped models (resources/)
    postgres: bool = False  # the tests need ORC_TEST_PG_URL (a real server: SQL policies, definer functions)
    # drawn by the CI sample (benchmarks/mutation_sample.py): False while the module's equivalent
    # survivors are explained only in docs/reliability.md's prose, not in mutation_explained.txt
    sampled: bool = True


CORE: dict[str, Target] = {
    "audit": Target("console/store/audit.py",
                    ("tests/unit/test_audit.py", "tests/unit/test_verify_records.py",
                     "tests/unit/test_mutants_audit.py"), sampled=False),
    "review": Target("console/services/decisions/adjudication.py",
                     ("tests/unit/test_review.py", "tests/unit/test_claims.py", "tests/unit/test_confirm_candidate.py",
                      "tests/unit/test_accountability.py::test_two_person_rule_needs_a_second_different_user",
                      "tests/unit/test_mutants_review.py"),
                     keyword="not control_room",  # that one runs the control-room benchmark (seconds)
                     needs_models=True),  # the export test blurs bystanders with the detector
    "retention": Target("console/services/record/retention.py",
                        ("tests/unit/test_accountability.py", "tests/unit/test_accountability_records.py",
                         "tests/unit/test_retention_views.py",
                         "tests/unit/test_mutants_retention.py"),
                        keyword="purge or retention or mutants", sampled=False),
    # The alert decision only: detection, alignment and embedding are the models' business and
    # the real-model tests take most of a second each. Fake-engine tests do the deciding fast.
    # (Issue 31 moved the alert's making and writing to alerting.py and the frame helpers to
    # frames.py: they are their own targets below.)
    "recognizer": Target("console/pipeline/recognizer.py",
                         ("tests/unit/test_pipeline.py", "tests/unit/test_mutants_recognizer.py",
                          "tests/unit/test_mutants_recognizer_outbox.py", "tests/unit/test_schedule.py",
                          "tests/unit/test_mutants_recognizer_carried.py"),
                         keyword="not gallery and not iou and not tracker",
                         only=("xǁCameraRecognizerǁsuppress*", "xǁCameraRecognizerǁ_may_alert*",
                               "xǁCameraRecognizerǁ_wants_search*", "xǁCameraRecognizerǁ_carried*",
                               "xǁCameraRecognizerǁprocess*"),
                         needs_models=True),
    # Making an alert (probe, blurred context) and writing it, or holding it in the outbox in order.
    "alerting": Target("console/pipeline/alerting.py",
                       ("tests/unit/test_pipeline.py", "tests/unit/test_mutants_recognizer.py",
                        "tests/unit/test_mutants_recognizer_outbox.py", "tests/unit/test_schedule.py",
                        "tests/unit/test_mutants_alerting.py", "tests/unit/test_mutants_alerting_after.py"),
                       keyword="not gallery and not iou and not tracker",
                       only=("x_prepare*", "xǁAlertWritingǁ*"), needs_models=True),
    "frames": Target("console/pipeline/frames.py",
                     ("tests/unit/test_pipeline.py", "tests/unit/test_mutants_recognizer.py",
                      "tests/unit/test_mutants_recognizer_outbox.py", "tests/unit/test_mutants_frames.py"),
                     keyword="not gallery and not iou and not tracker", needs_models=True),
    "gallery": Target("console/pipeline/gallery.py",
                      ("tests/unit/test_pipeline.py", "tests/unit/test_mutants_gallery.py",
                       "tests/unit/test_gallery_exact.py"),
                      keyword="gallery or mutants", sampled=False),
}




def merged(*parts: dict[str, Target]) -> dict[str, Target]:
    """One table from its parts; a module name used twice is an error, not a silent overwrite."""
    out: dict[str, Target] = {}
    for part in parts:
        clash = set(out) & set(part)
        if clash:
            raise ValueError(f"mutation targets named twice: {sorted(clash)}")
        out.update(part)
    return out
