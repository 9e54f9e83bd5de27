"""The vocabularies (console/domain.py) and the released migrations hold together, and a released
migration's text never changes."""

import hashlib
import re

import pytest

from console import domain
from console.store import migrations

# SHA-256 of each released step (its SQLite script and its PostgreSQL statements, if any). A step
# is never edited once released: change the schema with a new step.
RELEASED = {
    1: "bb8b7431c940ce1a30a2e3b2e53dc69b835658702808e62c9e0ff2bfe2b83b34",
    2: "e41d3ee8c346330fa3b2cfb37b63a3e4c2871098a1fccada08a75bd3b5261732",
    3: "ec125ba344f82cffb4c04f4915b8581146bd03958b6420b21d6eb6e05a5fd401",
    4: "f9f4a6220c404dd204d682f27e7040d48250ea5d73478f5916fb1de6e6c9566d",
    5: "bc393af2b4b106f972a65b194c21aa74e545a07428878593341c47cb747a3814",
    6: "6a337284da6c38634f4ae11f55d251490a8f048cfd9f9b218c064e6b1c1ae802",
    7: "09794ae09705501080b9eedde3456bd11cf06e2d33389ab0274a1b9e82971a55",
    8: "64e383c7a2bd4435846d4def982ea6395a6e34950082e38be8dbe708b922240c",
    9: "07df13336dfc02d7b2218ba75c7c9693c1d4eef11c95e0bd4ec81fd46463dc0a",
    10: "069d5def6862d7d5d41e31b6f3a4acac92bfd3835c82dd482dd57c9928299feb",
    11: "fe7f6b4874eb6836c86649f5a89bd32a46aa6f254c12c49a2ed0ca1290522c08",
    12: "29ed9387e19206994d4447535b541cb2080d6f7e404fb2d3070f2cd5ed1078a8",
    13: "38ab787e34e8e5d4fe8ee4e1a5ad31d2f931d370b3f32e9d7b615c913d711eee",
    14: "90ba36dcbafd49bdba6e7a6b968d1282567c380a530f2356cb0d462e7e8669a5",
    15: "a6c1a38c69405d9bf9227d0c76d4840fc1b123ad20f17473b014f077785cae30",
    16: "c6d9cfac364c557dd9d4c63beb8de16a2c132e935abb1169b46248876f6b22b1",
    17: "8144fc575b9910b48ca16354934ad9ffec11e990fb60498a3358b7ca239b7310",
    18: "0b80c10787eda0aaff6f6ba10c7bd582d3833bfe727c1ec11f029d615bb27209",
    19: "422267f45e44dac4c9515d14a4e0f8c0d4f57e17348e8606b387487e0d0adcfa",
    20: "fdcbce4b37f5e2e86f8581722736611b381d6215016a9abdd4c1d54a2386fdb1",
    21: "ccce07691a6a2cc9f9afeff81fc971e917006ff0df5ade362dab153f16c56b69",
    22: "e12ea98a9deb451ae245f32bc45a7fd65cda083d0e1f3711583f046e72258b39",
    23: "15f161f9b5e61d9750f5178d1f76a88b052354b0012071f95bbdaf0fe73c496a",
    24: "25273e51bce51ba7c4097608fbfcc64972b9457bd3f13bf88293134fb4c4eb4a",
    25: "7cb452ebb00a0ceea85c2f6e757958c85f6b6b6f56ecac78217127ae0314bd9a",
    26: "85f01b3568921183f7599172134f2ef815e79fefb2876ef2253b9d13de39c303",
    27: "24146959aea39dbc38b365c8e2f0aac4708c3b19101c5c1ecdb6acce8001362e",
    28: "5c9bd8fd159e89a4c0e0ff01e346720261ca67ccc6e6d6780c9e26c70c00c0bc",
    29: "333da1456e3d0392692feb327edd42ea84253e7fddfef47c49c9d2f8652d1125",
}


@pytest.mark.parametrize("migration", migrations.MIGRATIONS, ids=lambda m: f"v{m.version}")
def test_a_released_migration_never_changes(migration):
    digest = hashlib.sha256((migration.sql + repr(migration.postgres)).encode()).hexdigest()
    assert RELEASED.get(migration.version) == digest, (
        f"migration {migration.version} differs from its released text: add a new step instead "
        "(and pin the new step's digest here when it is released)")


def _check_list(column: str) -> set[str]:
    script = "".join(m.sql for m in migrations.MIGRATIONS)
    found = re.findall(rf"\b{column}\s+TEXT NOT NULL(?: DEFAULT '\w+')? CHECK \({column} IN \(([^)]*)\)\)", script)
    assert len(found) == 1, column
    return set(re.findall(r"'(\w+)'", found[0]))


@pytest.mark.parametrize(("column", "vocabulary"), [
    ("role", domain.Role), ("category", domain.WatchlistCategory), ("decision", domain.Decision),
    ("result", domain.EngagementResult), ("sex", domain.Sex), ("ethnic_group", domain.EthnicGroup),
    ("status", domain.AlertStatus), ("event", domain.AlertEvent), ("stage", domain.DispatchStage),
])
def test_every_code_of_a_vocabulary_is_one_the_database_accepts_and_no_more(column, vocabulary):
    assert _check_list(column) == set(vocabulary.codes())


def test_labels_are_for_people_and_codes_are_what_is_stored():
    assert domain.RejectReason("different_person").label == "Different person"
    assert domain.RejectReason.DIFFERENT_PERSON == "different_person"
    assert all(label and "_" not in label for label in domain.WatchlistCategory.labels().values())
    assert domain.category_priority("risk_to_others") == 1 and domain.category_priority("missing_person") == 2
    assert domain.category_priority("not a category") == 2
    with pytest.raises(ValueError, match="use one of"):
        domain.Decision.check("maybe", "decision")
