"""A seat with no deployment to open: a supervisor sets one up there and then, without an open
deployment (the set-up screen on its own), and the seat offers what is now authorised; an
administrator (the first one, on a new store) creates the accounts there.

Everything the screen reads or writes runs on the window's loader thread: the store is opened
there, the models load there (a watchlist photo is enrolled with them), and the GUI thread only
shows what comes back."""

from __future__ import annotations

from types import SimpleNamespace

from PySide6.QtWidgets import QMessageBox

from console.services.accounts.permissions import Permission

TITLE = "Operator Review Console"


def offer(window, jobs, location, actor, model_pack, providers, text: str, again) -> None:
    """Say there is nothing to open; to a role that sets deployments up, offer the set-up screen.
    ``again()`` asks the seat's question anew once that screen closes."""
    box = QMessageBox(QMessageBox.Icon.Information, TITLE, text, parent=window)
    window.seat_message = box
    if actor.may(Permission.MANAGE_DEPLOYMENT):
        box.setText(text + "\n\nYou may set one up now: create it, add its cameras and watchlist, tick the "
                           "checklist and authorise it.")
        setup = box.addButton("Set up a deployment", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Close)
        box.buttonClicked.connect(lambda button: open_setup(window, jobs, location, actor, model_pack, providers, again)
                                  if button is setup else None)
        window.seat_setup_button = setup
    elif actor.may(Permission.MANAGE_USERS):  # the first administrator makes the supervisors who set deployments up
        box.setText(text + "\n\nAs an administrator you may create the accounts now: supervisors set "
                           "deployments up, operators decide alerts.")
        users = box.addButton("Manage accounts", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Close)
        box.buttonClicked.connect(lambda button: open_setup(window, jobs, location, actor, model_pack, providers, again,
                                                           users=True) if button is users else None)
        window.seat_users_button = users
    box.open()


def open_setup(window, jobs, location, actor, model_pack, providers, again, users: bool = False) -> None:
    """The set-up screen (or, for an administrator, the accounts) with no deployment open."""
    from ui.supervision.setup import SetupTab
    from ui.supervision.users import UsersTab
    from ui.tool_dialog import ToolDialog

    def load():
        from console.services.accounts.session import open_store
        from console.services.runtime import models

        return open_store(location), (None if users else models.load(model_pack, providers))

    def ready(pair) -> None:
        store, engine = pair
        live = SimpleNamespace(store=store, engine=engine, deployment_id=None, operator=actor)
        what = "Accounts" if users else "Set up a deployment"
        dialog = ToolDialog(live, jobs, f"{what} - signed in as {actor.username} ({actor.role})", (1400, 820), window)
        tab = UsersTab(dialog) if users else SetupTab(dialog)
        dialog.add_tabs([(tab, "Users" if users else "Set up")])
        window.setup_dialog, window.setup_tab = dialog, tab

        def closed(_result: int) -> None:
            jobs.submit(store.close, lambda _: again(), window.show_error)

        dialog.finished.connect(closed)
        dialog.open()
        tab.refresh()

    window.placeholder.setText("Loading the set-up screen (the models enrol watchlist photos)...")
    jobs.submit(load, ready, window.show_error)
