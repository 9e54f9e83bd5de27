"""The seat's deployment chooser for the screenshot command: two deployments authorised for now in a
throwaway store (never the demo's), read through the same service a seat uses, the older one
remembered as this seat's last choice."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path


def render_seat_choice(wait, out_dir: Path, folder: Path) -> Path:
    """The chooser's screen; its store is made in ``folder`` (the screenshot's throwaway one)."""
    from console import clock
    from console.services.accounts import auth
    from console.services.accounts.session import open_store
    from console.services.runtime import seat_memory
    from console.services.setup import deployment_setup, deployments, new_deployment
    from ui.seat_choice import SeatChoiceDialog

    data = folder / "data"
    store = open_store(data)
    try:
        admin = auth.bootstrap_administrator(store, "chief", "Chief Administrator", "amber lantern over the quay")
        auth.create_user(store, admin, "j.ward", "Jo Ward", "supervisor", "violet kettle harbour")
        auth.create_user(store, admin, "a.khan", "Ali Khan", "operator", "copper finch at noon")
        sup = auth.actor_for(store, "j.ward")
        now = clock.now().replace(minute=0, second=0, microsecond=0)
        stamp = lambda t: t.isoformat(timespec="minutes").replace("+00:00", "Z")  # noqa: E731
        made = []
        for name, place, hours in (("Op Market Square", "Market Square, north entrance", 8),
                                   ("Op Station Concourse", "Central Station, main concourse", 30)):
            dep = new_deployment.create(store, sup, name, place, "Street robberies reported here",
                                        "Common law policing powers", "DPIA-2026-07", "LFR policy v3",
                                        stamp(now - timedelta(hours=1)), stamp(now + timedelta(hours=hours)))
            for item in deployment_setup.CHECKLIST:
                deployment_setup.tick(store, sup, dep, item)
            deployments.authorise(store, sup, dep, "checklist complete")
            made.append(dep)
        seat_memory.remember(data, made[0])
        operator = auth.actor_for(store, "a.khan")
    finally:
        store.close()
    rows, last = seat_memory.choices(data, operator)
    dialog = SeatChoiceDialog(rows, last, operator.username)
    dialog.show()
    wait(lambda: False, 0.3)
    path = Path(out_dir) / "seat_choice.png"
    dialog.grab().save(str(path))
    dialog.close()
    return path
