"""An entry and its first photo in one transaction (enrol.add_entry_with_photo, what `deploy entry-add`
calls): an entry whose photo is refused is not kept, and the refusal says why."""

import numpy as np
import pytest

from console.errors import MediaError, PermissionDenied
from console.services.setup import enrol
from tests.unit.accountability_world import entry_spec, world  # noqa: F401  (world is a fixture)


def _entries(store, record_number):
    return store.one("SELECT COUNT(*) AS n FROM watchlist_entries WHERE record_number = ?", (record_number,))["n"]


def test_a_refused_photo_keeps_no_entry_and_a_good_one_keeps_both(world, engine, photos):
    store, sup = world["store"], world["actors"]["supervisor"]
    blank = np.full((300, 300, 3), 120, np.uint8)
    with pytest.raises(MediaError, match="no face found"):
        enrol.add_entry_with_photo(store, engine, sup, world["dep"], entry_spec("R-40"), blank, "blank.jpg")
    assert _entries(store, "R-40") == 0
    entry, result = enrol.add_entry_with_photo(store, engine, sup, world["dep"], entry_spec("R-41"),
                                               photos("img20.jpg"), "img20.jpg")
    assert _entries(store, "R-41") == 1 and result.image_id
    assert store.one("SELECT COUNT(*) AS n FROM entry_images WHERE entry_id = ?", (entry,))["n"] == 1


def test_only_a_role_that_enrols_adds_an_entry_with_its_photo(world, engine, photos):
    store = world["store"]
    with pytest.raises(PermissionDenied, match="may not enrol"):
        enrol.add_entry_with_photo(store, engine, world["actors"]["operator"], world["dep"], entry_spec("R-42"),
                                   photos("img20.jpg"), "img20.jpg")
    assert _entries(store, "R-42") == 0
