"""Every page, in the state a user sees it, has no serious or critical axe-core violations, and
works on a phone-sized screen without sideways scrolling."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import axe_violations
from tests.browser.stack import Stack

pytestmark = pytest.mark.browser


def _open(page: Any, stack: Stack, name: str) -> None:
    """Each page as it looks in use: signed in where that is needed, a claim shown where there is one."""
    page.goto(f"{stack.web_url}/{name}")
    if name == "inruil.html":
        page.locator("#claim-form").wait_for()
        page.get_by_role("button", name="Claim registreren").click()  # with its error messages
        page.get_by_role("alert").wait_for()
    elif name.startswith("volg.html"):
        page.get_by_label("Postcode").fill("3512 JE")
        page.get_by_role("button", name="Zoeken").click()
        page.locator("#claim-view").wait_for()
    elif name == "mijn.html":
        page.get_by_role("button", name="Inloggen als testlid").click()
        page.locator("#coupons li").first.wait_for()
    elif name == "backoffice.html":
        page.get_by_role("button", name="Inloggen als medewerker").click()
        page.locator("#claims button").first.click()
        page.locator("#claim-heading").wait_for()
    elif name == "api.html":
        page.locator(".swagger-ui .opblock").first.wait_for()


@pytest.fixture(scope="module")
def claim(stack: Stack) -> str:
    return stack.claim_with_proof("3512 JE", "axe.test@example.nl")


@pytest.fixture(scope="module")
def member(stack: Stack) -> str:
    stack.member_with_points("demo-member", "demo.axe@example.nl")
    return "demo-member"


@pytest.mark.parametrize("name", ["index.html", "inruil.html", "volg.html", "mijn.html", "backoffice.html", "api.html"])
def test_every_page_has_no_serious_accessibility_violations(
    page: Any, stack: Stack, claim: str, member: str, name: str
) -> None:
    _open(page, stack, f"volg.html?claim={claim}" if name == "volg.html" else name)
    violations = axe_violations(page)
    assert violations == [], violations


@pytest.mark.parametrize("name", ["inruil.html", "volg.html", "mijn.html", "backoffice.html"])
def test_every_page_fits_a_phone(browser: Any, stack: Stack, claim: str, member: str, name: str) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, locale="nl-NL")
    phone = context.new_page()
    try:
        _open(phone, stack, f"volg.html?claim={claim}" if name == "volg.html" else name)
        overflow = phone.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px on a phone"
    finally:
        context.close()
