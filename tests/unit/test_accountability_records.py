"""Step 4's safeguards, continued: watchlist governance, retention with a moved clock, logged exports
and labelled demo accounts, each tried by someone who should not get through."""

from datetime import datetime, timedelta

import cv2
import numpy as np
import pytest

from console.errors import ConsoleError, MediaError
from console.services.accounts import auth
from console.services.decisions import case_file
from console.services.record import retention
from console.services.setup import deployments, enrol
from console.store import audit, repo
from tests.unit.accountability_world import entry_spec, world  # noqa: F401  (world: a fixture)


# -- watchlist governance ---------------------------------------------------------------------------
def test_entries_need_every_field_a_fixed_category_and_under_18_justification(world):
    store, sup = world["store"], world["actors"]["supervisor"]
    with pytest.raises(enrol.GovernanceError, match="fixed list"):
        enrol.add_entry(store, sup, world["wl"], entry_spec(category="suspicious_looking"))
    with pytest.raises(enrol.GovernanceError, match="legal basis"):
        enrol.add_entry(store, sup, world["wl"], entry_spec(legal_basis=""))
    with pytest.raises(enrol.GovernanceError, match="review date must be in the future"):
        enrol.add_entry(store, sup, world["wl"], entry_spec(review_date="2020-01-01"))
    with pytest.raises(enrol.GovernanceError, match="under 18"):
        enrol.add_entry(store, sup, world["wl"], entry_spec(under_18=True))
    enrol.add_entry(store, sup, world["wl"], entry_spec(
        "R-18", under_18=True, under_18_justification="Missing 15-year-old at risk of serious harm; court order 123."))


def test_watchlist_cap_is_enforced(world):
    store, sup = world["store"], world["actors"]["supervisor"]
    repo.set_setting(store, f"deployment/{world['dep']}", "watchlist_cap", 2, sup.user_id, "sup", "test")
    enrol.add_entry(store, sup, world["wl"], entry_spec("R-2"))
    with pytest.raises(enrol.GovernanceError, match="cap of 2"):
        enrol.add_entry(store, sup, world["wl"], entry_spec("R-3"))


def test_enrolment_refuses_bad_photos_with_plain_reasons(world, engine, photos, group_photo):
    store, sup = world["store"], world["actors"]["supervisor"]
    entry = enrol.add_entry(store, sup, world["wl"], entry_spec("R-5"))
    blank = np.full((300, 300, 3), 120, np.uint8)
    tiny = cv2.copyMakeBorder(cv2.resize(photos("img21.jpg"), None, fx=0.1, fy=0.1), 150, 150, 150, 150,
                              cv2.BORDER_CONSTANT, value=(90, 90, 90))
    blurred = cv2.GaussianBlur(photos("img21.jpg"), (0, 0), 7)
    for image, message in [(blank, "no face found"), (group_photo, "6 faces found"), (tiny, "face too small"),
                           (blurred, "face blurred")]:
        with pytest.raises(MediaError, match=message):
            enrol.enrol_photo(store, engine, sup, entry, image, "photo.jpg")
    assert store.one("SELECT COUNT(*) AS n FROM entry_images WHERE entry_id = ?", (entry,))["n"] == 0
    first = enrol.enrol_photo(store, engine, sup, entry, photos("img20.jpg"), "img20.jpg")
    assert first.warnings == []


def test_enrolling_the_same_person_twice_warns(world, engine, photos):
    store, sup = world["store"], world["actors"]["supervisor"]
    a = enrol.add_entry(store, sup, world["wl"], entry_spec("R-6"))
    b = enrol.add_entry(store, sup, world["wl"], entry_spec("R-7"))
    store.conn.execute("UPDATE entry_images SET model_id = 'other'")  # the fixture's fake image is not a face
    enrol.enrol_photo(store, engine, sup, a, photos("img20.jpg"), "img20.jpg")
    result = enrol.enrol_photo(store, engine, sup, b, photos("img21.jpg"), "img21.jpg")
    assert len(result.warnings) == 1 and "R-6" in result.warnings[0]


# -- retention, with a moved clock --------------------------------------------------------------------
def test_alert_images_are_purged_after_31_days_and_the_purge_is_logged(world):
    store = world["store"]
    alert = world["make_alert"]()
    stored = datetime.fromisoformat(store.one("SELECT stored_at FROM alerts WHERE id = ?",
                                              (alert,))["stored_at"].replace("Z", "+00:00"))
    assert retention.run_purges(store, now=stored + timedelta(days=30)).alerts == 0
    report = retention.run_purges(store, now=stored + timedelta(days=32))
    assert report.alerts == 1
    row = store.one("SELECT probe_jpeg, context_jpeg, purged_at, probe_sha256 FROM alerts WHERE id = ?", (alert,))
    assert row["probe_jpeg"] is None and row["context_jpeg"] is None and row["purged_at"]
    assert row["probe_sha256"] == repo.sha256(b"probe")  # the record of what was there stays
    assert store.one("SELECT items FROM purges WHERE rule = 'alert_images'")["items"] == 1
    assert audit.verify_chain(store).ok and audit.verify_records(store) == []
    assert retention.run_purges(store, now=stored + timedelta(days=40)).alerts == 0  # nothing twice


def test_watchlist_is_purged_soon_after_the_deployment_ends_keeping_record_numbers(world):
    store = world["store"]
    deployments.end(store, world["actors"]["supervisor"], world["dep"], "done")
    ended = datetime.fromisoformat(repo.get_deployment(store, world["dep"])["ended_at"].replace("Z", "+00:00"))
    assert retention.run_purges(store, now=ended + timedelta(minutes=30)).entry_images == 0
    report = retention.run_purges(store, now=ended + timedelta(hours=2))
    assert report.entry_images == 1 and report.watchlists == 1
    row = store.one("SELECT image_jpeg, embedding, purged_at FROM entry_images")
    assert row["image_jpeg"] is None and row["embedding"] is None and row["purged_at"]
    assert store.one("SELECT record_number FROM watchlist_entries")["record_number"] == "R-1"
    logged = store.one("SELECT details_json FROM audit_log WHERE action = 'retention.purged.watchlist'")
    assert '"records_kept":["R-1"]' in logged["details_json"]
    assert repo.gallery_rows(store, world["dep"], "model-x").matrix.size == 0


def test_a_deployment_past_its_end_time_is_purged_even_if_nobody_ended_it(world):
    store = world["store"]
    ends = datetime.fromisoformat(repo.get_deployment(store, world["dep"])["ends_at"].replace("Z", "+00:00"))
    assert retention.run_purges(store, now=ends + timedelta(hours=25)).watchlists == 1


def test_retention_settings_are_bounded(world):
    admin = world["actors"]["administrator"]
    with pytest.raises(ConsoleError, match="between 1 and 31"):
        retention.configure(world["store"], admin, 90, 1, "keep longer")
    with pytest.raises(ConsoleError, match="within 24 hours"):
        retention.configure(world["store"], admin, 31, 48, "keep longer")


def test_exports_are_logged(world, tmp_path):
    store, sup = world["store"], world["actors"]["supervisor"]
    alert = world["make_alert"]()
    files = case_file.export_alert(store, sup, alert, tmp_path)
    assert {p.name for p in files} == {f"alert-{alert}-probe.jpg", f"alert-{alert}-context.jpg", f"alert-{alert}.json"}
    assert store.one("SELECT actor FROM audit_log WHERE action = 'alert.exported'")["actor"] == "supervisor"


def test_unused_demo_accounts_are_labelled(store):
    from console.services.setup.demo import make_demo_store

    make_demo_store(store)
    rows = store.query("SELECT username, is_demo, role FROM users ORDER BY username")
    assert all(r["username"].startswith("demo.") and r["is_demo"] for r in rows)
    assert {r["role"] for r in rows} == {"operator", "supervisor", "administrator", "engagement_officer"}
    assert auth.login(store, "demo.operator", "demo").role == "operator"
    assert not auth.has_administrator(store)  # a demo admin does not count as the first real one
