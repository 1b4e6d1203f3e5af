"""`make screenshots`: docs/screenshots/*.png of every page, in use, from the local stack.

Starts the stack on free ports (tests/browser/stack.py), creates what the pages show (a claim
with its proof, a member with points and a coupon) and photographs each page with Debian's
Chromium. Rerun after changing a page and commit the pictures.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.stack import CHROMIUM, CHROMIUM_ARGS, start_stack  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
# Pictures are taken into a temporary folder and copied at the end: a file written into the
# project while the stack runs makes `chalice local` reload, and the pages then lose the API.
SHOTS = Path(tempfile.mkdtemp(prefix="screenshots-"))


def main() -> int:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    stack = start_stack()
    try:
        claim = stack.claim_with_proof("1017 CT", "screenshot@example.nl")
        stack.member_with_points("demo-member", "demo@example.nl")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            desk = browser.new_context(
                viewport={"width": 1280, "height": 900}, locale="nl-NL", timezone_id="Europe/Amsterdam"
            )
            page = desk.new_page()

            page.goto(f"{stack.web_url}/inruil.html")
            page.locator("#claim-form").wait_for()
            page.get_by_label("Bonnummer").fill("WEB-ONBEKEND")
            page.get_by_role("button", name="Claim registreren").click()
            page.get_by_role("alert").wait_for()
            page.screenshot(path=str(SHOTS / "inruil.png"), full_page=True)

            page.goto(f"{stack.web_url}/volg.html?claim={claim}")
            page.get_by_label("Postcode").fill("1017 CT")
            page.get_by_role("button", name="Zoeken").click()
            page.locator("#claim-view").wait_for()
            page.screenshot(path=str(SHOTS / "volg.png"), full_page=True)

            page.goto(f"{stack.web_url}/mijn.html")
            page.get_by_role("button", name="Inloggen als testlid").click()
            page.get_by_role("button", name=re.compile("20,00-coupon voor 1.000 punten")).click()
            page.locator("li.coupon svg").first.wait_for()
            page.screenshot(path=str(SHOTS / "mijn.png"), full_page=True)

            page.goto(f"{stack.web_url}/backoffice.html")
            page.get_by_role("button", name="Inloggen als medewerker").click()
            page.get_by_label("Status").select_option("awaiting_device")
            page.get_by_label("Zoeken").fill(claim)
            page.get_by_role("button", name="Zoeken").click()
            page.get_by_role("button", name=f"Claim {claim} openen").click()
            page.locator("#claim-heading").wait_for()
            page.wait_for_timeout(500)
            page.screenshot(path=str(SHOTS / "backoffice.png"), full_page=True)

            page.goto(f"{stack.web_url}/api.html")
            page.locator(".swagger-ui .opblock").first.wait_for()
            page.screenshot(path=str(SHOTS / "api.png"))

            phone = browser.new_context(
                viewport={"width": 390, "height": 844}, is_mobile=True, device_scale_factor=2, locale="nl-NL"
            )
            small = phone.new_page()
            small.goto(f"{stack.web_url}/mijn.html")
            small.get_by_role("button", name="Inloggen als testlid").click()
            small.locator("li.coupon").first.wait_for()
            small.locator("#convert-title").scroll_into_view_if_needed()
            small.screenshot(path=str(SHOTS / "mijn-telefoon.png"))
            browser.close()
    finally:
        stack.stop()
    for picture in sorted(SHOTS.glob("*.png")):
        shutil.copy2(picture, OUT / picture.name)
        print((OUT / picture.name).relative_to(ROOT))
    shutil.rmtree(SHOTS, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
