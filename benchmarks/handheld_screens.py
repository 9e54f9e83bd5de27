"""The officer's phone, photographed from the real browser for the README: docs/handheld_phone.png
(a dispatched incident as it arrives) and docs/handheld_outcome.png (the outcome form filled in).

    python -m benchmarks.handheld_screens [--out docs] [--scale 2]

It runs on a throwaway demo store of its own (a temporary folder, removed after): the deployment,
officer and watchlist entry are labelled as a demo, and the faces are the demo's public-domain
astronaut photo (scikit-image). A source checkout with the dev extras and the system's chromium.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks.handheld_rig import IMAGES_LOADED, control_room, shown_dispatch, wait
from console.services.engage import dispatch

NOTE = "Same scar over the left eyebrow and the same ear shape; jacket as reported by the family"
PHONE = (390, 844)


def shoot(out: Path, scale: float) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    phone_png, outcome_png = out / "handheld_phone.png", out / "handheld_outcome.png"
    with control_room(PHONE, scale) as (world, phone, _base_url):
        alert_id = world.alert()
        world.confirm(alert_id, NOTE)
        sent = dispatch.send(world.store, world.op, alert_id)
        wait(lambda: shown_dispatch(phone) == sent.dispatch_id, 10, "the incident on the phone")
        wait(lambda: phone.execute_script(IMAGES_LOADED), 10, "the incident's images decoded")
        phone.execute_script("window.scrollTo(0, 0)")
        phone.save_screenshot(str(phone_png))
        phone.find_element("id", "located-yes").click()
        wait(lambda: phone.find_element("id", "same-person").is_displayed(), 5, "the identity question")
        phone.find_element("id", "same-person").click()
        from selenium.webdriver.support.ui import Select

        Select(phone.find_element("id", "action")).select_by_value("words_of_advice")
        phone.find_element("id", "outcome-note").send_keys("Found safe, confirmed by her bank card; taken to her sister")
        phone.execute_script("document.getElementById('outcome-submit').scrollIntoView({block: 'end'})")
        phone.save_screenshot(str(outcome_png))
    return [phone_png, outcome_png]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "docs")
    parser.add_argument("--scale", type=float, default=2.0, help="device pixel ratio (2 or 3)")
    args = parser.parse_args(argv)
    for path in shoot(args.out, args.scale):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
