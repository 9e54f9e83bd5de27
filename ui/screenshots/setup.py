"""The set-up tab for the screenshot command: a draft deployment in a throwaway store (never the
demo's), with a camera on a generated video, two watchlist entries and one checklist item ticked."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace


def render_setup(wait, engine, jobs, out_dir: Path, folder: Path) -> list[Path]:
    """The set-up tab's screens; its store and video are made in ``folder`` (the screenshot's throwaway one)."""
    from console import clock
    from console.feeds.demo import write_demo_video
    from console.feeds.demo_media import demo_subjects, read_image
    from console.services.accounts import auth
    from console.services.accounts.session import open_store
    from console.services.setup import cameras, deployment_setup, enrol, new_deployment
    from console.services.setup.watchlist_entries import EntrySpec
    from ui.supervision.setup import SetupTab
    from ui.tool_dialog import ToolDialog

    folder.mkdir(parents=True)
    store = open_store(folder / "data")
    admin = auth.bootstrap_administrator(store, "chief", "Chief Administrator", "amber lantern over the quay")
    auth.create_user(store, admin, "j.ward", "Jo Ward", "supervisor", "violet kettle harbour")
    sup = auth.actor_for(store, "j.ward")
    now = clock.now()
    stamp = lambda t: t.isoformat(timespec="minutes").replace("+00:00", "Z")  # noqa: E731
    dep = new_deployment.create(store, sup, "Op Market Square", "Market Square, north entrance",
                                "Street robberies reported here on market days", "Common law policing powers",
                                "DPIA-2026-07", "LFR policy v3", stamp(now), stamp(now + timedelta(hours=8)))
    video = folder / "north-gate.mp4"
    write_demo_video(video, 0, seconds=2.0, size=(640, 360))
    cameras.add(store, sup, dep, "North gate", str(video))
    cameras.add(store, sup, dep, "Bus stop", "rtsp://10.0.0.7/stream1", "viewer", "not-shown")
    for n, subject in enumerate(demo_subjects(), start=1):
        entry = enrol.add_entry(store, sup, enrol.watchlist_id(store, dep), EntrySpec(
            f"WL-{n:04d}", f"Subject {n}", "wanted_by_courts", "Warrant issued by the magistrates' court",
            "Arrest warrant outstanding", "Custody photo", "2024-03-01", "2026-12-31"))
        enrol.enrol_photo(store, engine, sup, entry, read_image(subject.photo), subject.photo.name)
    deployment_setup.tick(store, sup, dep, "signage", "six signs placed")
    live = SimpleNamespace(store=store, engine=engine, deployment_id=dep, operator=sup)
    dialog = ToolDialog(live, jobs, "Supervision - signed in as j.ward (supervisor)", (1400, 820))
    tab = SetupTab(dialog)
    dialog.add_tabs([(tab, "Set up")])
    dialog.show()
    tab.refresh()
    wait(lambda: tab.camera_list.rowCount() == 2 and tab.entries.list.rowCount() == 2, 20)
    paths = []
    wait(lambda: False, 0.3)
    paths.append(_grab(dialog, out_dir, "deployment_setup.png"))
    tab.pages.setCurrentIndex(1)
    tab.camera_list.selectRow(0)
    tab.test_camera_button.click()
    wait(lambda: tab.preview.pixmap() is not None and not tab.preview.pixmap().isNull(), 20)
    paths.append(_grab(dialog, out_dir, "deployment_setup_cameras.png"))
    tab.pages.setCurrentIndex(2)
    tab.entries.list.selectRow(0)
    wait(lambda: tab.entries.photo.pixmap() is not None and not tab.entries.photo.pixmap().isNull(), 10)
    paths.append(_grab(dialog, out_dir, "deployment_setup_watchlist.png"))
    from ui.screenshots.dispatch import render_handhelds

    paths += render_handhelds(wait, jobs, out_dir, folder, store, admin, live, dep, tab)
    dialog.close()
    jobs.wait(5000)
    store.close()
    return paths


def _grab(dialog, out_dir: Path, name: str) -> Path:
    path = Path(out_dir) / name
    dialog.grab().save(str(path))
    return path
