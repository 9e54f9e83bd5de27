"""The demo deployment: what ``python main.py`` opens on a fresh machine.

It is a deployment like any other - authorised by a (demo) supervisor for a place and a
time window, with a watchlist whose entries carry every governance field - and it says
plainly that it is a demo. Its watchlist photos come from installed packages.
"""

from __future__ import annotations

from datetime import timedelta

from console import clock
from console.feeds.demo_media import demo_subjects, read_image
from console.services.auth import demo_account, ensure_demo_user
from console.services.enrol import enrol_image
from console.store import Store, repo
from console.vision.engine import FaceEngine

DEMO_OPERATOR = "demo.operator"
DEMO_SUPERVISOR = "demo.supervisor"


DEMO_ADMIN = "demo.admin"
DEMO_PASSWORD = "demo"


def ensure_demo_accounts(store: Store) -> None:
    """The clearly labelled demo accounts (password "demo"): operator, supervisor, administrator. Ones an
    administrator disabled or deleted are left so."""
    ensure_demo_user(store, DEMO_OPERATOR, "Demo Operator", "operator", DEMO_PASSWORD)
    ensure_demo_user(store, DEMO_SUPERVISOR, "Demo Supervisor", "supervisor", DEMO_PASSWORD)
    ensure_demo_user(store, DEMO_ADMIN, "Demo Administrator", "administrator", DEMO_PASSWORD)


def ensure_demo_deployment(store: Store, engine: FaceEngine, cameras: int = 1) -> int:
    """The current demo deployment for this engine, created (and enrolled) if needed."""
    now = clock.now()
    stamp = now.isoformat(timespec="seconds").replace("+00:00", "Z")
    ensure_demo_accounts(store)
    row = store.one(
        "SELECT id FROM deployments WHERE is_demo = 1 AND model_id = ? AND starts_at <= ? AND ends_at > ?"
        " AND state IN ('authorised', 'active', 'stopped') ORDER BY id DESC LIMIT 1", (engine.model_id, stamp, stamp))
    if row is not None:
        dep_id = int(row["id"])
        have = len(repo.cameras(store, dep_id))
        supervisor = demo_account(store, DEMO_SUPERVISOR)
        for i in range(have, cameras):
            repo.add_camera(store, dep_id, f"Demo camera {i + 1}", f"demo:{i}", supervisor.username)
        return dep_id
    supervisor = demo_account(store, DEMO_SUPERVISOR)
    spec = repo.DeploymentSpec(
        name="Demo deployment",
        location="Generated demo corridor (no real place)",
        rationale="Demonstration with generated video; no real person is searched for.",
        starts_at=(now - timedelta(minutes=5)).isoformat(timespec="seconds").replace("+00:00", "Z"),
        ends_at=(now + timedelta(hours=12)).isoformat(timespec="seconds").replace("+00:00", "Z"),
        threshold=engine.default_threshold,
        threshold_floor=engine.default_threshold,
        model_id=engine.model_id,
        is_demo=True,
        legal_basis="None: demonstration with generated video",
        dpia_ref="n/a (demo)",
        policy_ref="n/a (demo)",
    )
    dep_id = repo.create_deployment(store, spec, supervisor.user_id, supervisor.username)
    for i in range(cameras):
        repo.add_camera(store, dep_id, f"Demo camera {i + 1}", f"demo:{i}", supervisor.username)
    wl = repo.create_watchlist(store, dep_id, "Demo watchlist", supervisor.username)
    review = (now + timedelta(days=1)).date().isoformat()
    for subject in demo_subjects():
        entry = repo.add_entry(store, wl, repo.EntrySpec(
            record_number=subject.record_number,
            subject_name=subject.name,
            category="missing_person",
            legal_basis="Demonstration only: no legal basis needed, no real search",
            reason="Demo subject so that the demo raises real alerts",
            image_source=subject.source,
            image_date="2020-01-01",
            review_date=review,
        ), supervisor.user_id, supervisor.username)
        enrol_image(store, engine, supervisor, entry, read_image(subject.photo), subject.photo.name)
    return dep_id
