"""Screenshots of the console's side of the handheld (issue 28): the confirm step's Send to, the
Dispatched list under the queue as the phone reads the incident, its red warning when nothing was
delivered in 5 s (on the demo, with an officer's phone paired as the web service would pair it), and
the supervisor's Handhelds dialog and instructions page (on the set-up screenshot's throwaway store)."""

from __future__ import annotations

from pathlib import Path

OFFICER, OFFICER_PASSWORD = "pc.hale", "a long officer's passphrase on the quay"


def _save(widget, path: Path, say: bool = True) -> Path:
    widget.grab().save(str(path))
    if say:  # the set-up screens' caller prints the paths it is given
        print(f"wrote {path}")
    return path


def _confirm_first(app, window, wait) -> int | None:
    if not window.alerts.rows:
        return None
    alert_id = window.alerts.rows[0]["id"]
    window.review.open(alert_id)
    wait(app, lambda: window.view.mode == "review" and window.view.detail is not None, 20)
    window.view.ask_confirm()
    return alert_id


def shoot_dispatch(app, window, out_dir: Path, wait) -> None:
    """On the demo: pair an officer's phone, confirm with Send to shown, then the delivery states."""
    from console.services.accounts import auth, session
    from console.services.engage import dispatch, pairing

    live = window.live
    phone = session.open_store(window.location)  # the handheld service's own connection
    try:
        auth.create_user(phone, auth.actor_for(phone, "demo.admin"), OFFICER, "PC Sam Hale", "engagement_officer",
                         OFFICER_PASSWORD)
        code = pairing.start_pairing(phone, auth.actor_for(phone, "demo.supervisor"), OFFICER, live.deployment_id)
        _, device = pairing.pair(phone, code.code, "Pixel 8", "10.0.0.21")
        alert_id = _confirm_first(app, window, wait)
        if alert_id is None:
            return
        wait(app, lambda: False, 0.5)
        _save(window, out_dir / "adjudication_send_to.png")
        window.view.commit()
        wait(app, lambda: alert_id in window.dispatches.deliveries, 20)
        sent = dispatch.inbox(phone, device)[0]  # the phone asks (delivered), then opens it (seen)
        dispatch.card(phone, device, sent["dispatch_id"])
        wait(app, lambda: window.dispatches.deliveries[alert_id].state == "seen", 20)
        window.view.back()  # the outcome later: the officer reports it
        wait(app, lambda: False, 0.8)
        second = _confirm_first(app, window, wait)
        if second is not None:
            window.view.commit()
            wait(app, lambda: second in window.dispatches.deliveries, 20)
            wait(app, lambda: window.dispatches.deliveries[second].late(), dispatch.NOT_DELIVERED_S + 3)
            wait(app, lambda: False, 1.2)
            window.view.back()
            wait(app, lambda: False, 0.8)
        _save(window, out_dir / "dispatch_delivery.png")
    finally:
        phone.close()


def render_handhelds(wait, jobs, out_dir: Path, folder: Path, store, admin, live, dep_id: int, tab) -> list[Path]:
    """Set up's Officers' handhelds page, then the Handhelds dialog with a code made and a phone paired."""
    from console import clock
    from console.services.accounts import auth
    from console.services.engage import certificate, pairing, service
    from ui.supervision.handhelds import HandheldsDialog

    auth.create_user(store, admin, OFFICER, "PC Sam Hale", "engagement_officer", OFFICER_PASSWORD)
    auth.create_user(store, admin, "pc.okafor", "PC Ada Okafor", "engagement_officer", OFFICER_PASSWORD + " too")
    cert = certificate.ensure_certificate(folder, ["localhost"])  # a real one, in the throwaway folder
    service.announce(store, "https://192.168.10.5:8443", cert.sha256_fingerprint, clock.utcnow())
    code = pairing.start_pairing(store, live.operator, "pc.okafor", dep_id)
    pairing.pair(store, code.code, "Galaxy A54", "192.168.10.31")
    tab.pages.setCurrentWidget(tab.officers)
    wait(lambda: bool(tab.officers.texts["missing_person"].toPlainText()), 10)
    wait(lambda: False, 0.3)
    paths = [_save(tab.dialog, Path(out_dir) / "deployment_setup_officers.png", False)]
    dialog = HandheldsDialog(live, jobs, dep_id, "Op Market Square", tab.dialog)
    dialog.show()
    wait(lambda: dialog.officer.findData(OFFICER) >= 0 and dialog.table.rowCount() == 1, 10)
    dialog.officer.setCurrentIndex(dialog.officer.findData(OFFICER))
    dialog.pair_button.click()
    wait(lambda: "-" in dialog.code.text() and dialog.code.text() != "-----", 10)
    wait(lambda: False, 0.3)
    paths.append(_save(dialog, Path(out_dir) / "handhelds.png", False))
    dialog.close()
    return paths
