"""Shared by the Supervision dialog's tests: a small deployment's live stand-in, and a dialog opened
for a user once its Deployment tab has read the facts."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from console.services.accounts import auth
from console.store import open_store, repo
from tests.factories import small_deployment


@pytest.fixture
def live(tmp_path):
    store = open_store(tmp_path / "data")
    d = small_deployment(store, operators=("op",))
    obj = SimpleNamespace(store=store, deployment_id=d.deployment_id, engine=None,
                          deployment=repo.get_deployment(store, d.deployment_id), operator=auth.actor_for(store, "sup"))
    yield obj
    store.close()


def supervision_dialog(qtbot, live, jobs, username: str):
    """The Supervision dialog as ``username`` sees it, once the Deployment tab shows the threshold."""
    from ui.supervision import SupervisionDialog

    live.operator = auth.actor_for(live.store, username)
    dialog = SupervisionDialog(live, jobs)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "Threshold in force" in dialog.deployment.facts.text(), timeout=10000)
    return dialog
