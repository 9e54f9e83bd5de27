"""The demo deployment: what the README's run command (``python main.py --demo``) opens.

It is a deployment like any other - authorised by a (demo) supervisor for a place and a
time window, with a watchlist whose entries carry every governance field - and it says
plainly that it is a demo. Its watchlist photos come from installed packages.

The demo lives in a store of its own (its own data directory, ``demo_data_dir()``), marked as a
demo store when it is made, fresh. Its accounts (demo.operator, demo.supervisor, demo.admin,
password "demo") exist only there: they are never created in a real store, a real store is never
turned into a demo store, and sign-in refuses a demo account anywhere but in a demo store.
"""

from __future__ import annotations

from datetime import timedelta

from console import clock
from console.errors import ConsoleError
from console.feeds.demo_media import demo_subjects, read_image
from console.paths import default_data_dir
from console.services.accounts.auth import demo_account, ensure_demo_user, is_demo_store
from console.services.setup.enrol import enrol_image
from console.store import Store, repo
from console.store import deployments as db
from console.vision.engine import FaceEngine

DEMO_OPERATOR = "demo.operator"
DEMO_SUPERVISOR = "demo.supervisor"


DEMO_ADMIN = "demo.admin"
DEMO_OFFICER = "demo.officer"  # an engagement officer: pairs a phone with the handheld service (main.py engage)
DEMO_PASSWORD = "demo"


class NotADemoStore(ConsoleError):
    """The store holds real accounts or deployments: the demo may not be made in it."""


def demo_data_dir():
    """The demo's own data directory (beside, never inside, a real store's database)."""
    return default_data_dir().with_name(default_data_dir().name + "-demo")


def make_demo_store(store: Store) -> None:
    """Mark a fresh store as the demo's (and make its accounts); a store already marked is left as
    it is. A store holding any account or deployment of its own is refused, with the way out."""
    if not is_demo_store(store):
        held = db.accounts_and_deployments(store)
        if held["users"] or held["deps"]:
            raise NotADemoStore("this store holds real accounts or deployments: the demo runs in a data directory "
                                "of its own (python main.py --demo, or --demo --data-dir AN_EMPTY_FOLDER)")
        repo.set_setting(store, "store", "kind", "demo", None, "demo-setup", "a demo store, made fresh")
    ensure_demo_accounts(store)


def ensure_demo_accounts(store: Store) -> None:
    """The clearly labelled demo accounts (password "demo"): operator, supervisor, administrator and an
    engagement officer (for pairing a phone) - in
    a demo store only. Ones an administrator disabled or deleted are left so (the demo then signs in
    as the others)."""
    if not is_demo_store(store):
        raise NotADemoStore("demo accounts exist only in a demo store (python main.py --demo)")
    ensure_demo_user(store, DEMO_OPERATOR, "Demo Operator", "operator", DEMO_PASSWORD)
    ensure_demo_user(store, DEMO_SUPERVISOR, "Demo Supervisor", "supervisor", DEMO_PASSWORD)
    ensure_demo_user(store, DEMO_ADMIN, "Demo Administrator", "administrator", DEMO_PASSWORD)
    ensure_demo_user(store, DEMO_OFFICER, "Demo Officer", "engagement_officer", DEMO_PASSWORD)


def ensure_demo_deployment(store: Store, engine: FaceEngine, cameras: int = 1) -> int:
    """The current demo deployment for this engine, created (and enrolled) if needed, in a demo store
    (a fresh store becomes one; a real store is refused)."""
    now = clock.now()
    stamp = now.isoformat(timespec="seconds").replace("+00:00", "Z")
    make_demo_store(store)
    row = db.open_demo_deployment(store, engine.model_id, stamp)

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
