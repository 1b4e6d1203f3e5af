"""Browser tests: Debian's Chromium driven by Playwright against the local stack on 127.0.0.1.

`make browser-test` runs them (they are left out of the default `pytest` run by the `browser`
marker, `pytestmark` in each module). Chromium comes from apt (`apt-get install -y chromium`), not `playwright install`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.stack import CHROMIUM, CHROMIUM_ARGS, Stack, start_stack

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    running = start_stack()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, stack: Stack) -> Iterator[Any]:
    """A fresh browser context per test; JavaScript errors on the page fail the test."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="nl-NL", timezone_id="Europe/Amsterdam"
    )
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield tab
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core (bundled, tests only) on the page as it is now: the serious and critical violations."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
