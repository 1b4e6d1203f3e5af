"""A claim handler finds a claim, sees its proof, records the laptop's arrival and the
inspection, and finds the claim in the payout batch of the next nightly run."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.stack import Stack

pytestmark = pytest.mark.browser


@pytest.mark.rule("T8", "T9", "T11")
def test_a_claim_handler_inspects_a_claim_and_sees_it_in_a_payout_batch(page: Any, stack: Stack) -> None:
    claim_number = stack.claim_with_proof("2511 CV", "handler.test@example.nl")

    page.goto(f"{stack.web_url}/backoffice.html")
    page.get_by_role("button", name="Inloggen als medewerker").click()
    page.get_by_label("Zoeken").fill(claim_number)
    page.get_by_role("button", name="Zoeken").click()
    page.get_by_role("button", name=f"Claim {claim_number} openen").click()
    page.get_by_role("heading", name=f"Claim {claim_number}").wait_for()
    proof = page.get_by_role("img", name=f"Aankoopbewijs van claim {claim_number}")
    proof.wait_for()
    assert proof.evaluate("img => img.complete && img.naturalWidth > 0"), "the presigned GET of the proof loads"

    page.get_by_role("button", name="Laptop ontvangen").click()
    page.locator("#claim-detail").get_by_text("Laptop ontvangen", exact=True).first.wait_for()
    page.locator("#claim-detail dd").get_by_text("Laptop ontvangen").wait_for()

    page.get_by_label("Goedgekeurd", exact=True).check()
    page.get_by_role("button", name="Keuring opslaan").click()
    page.locator("#claim-detail dd").get_by_text("Goedgekeurd", exact=True).wait_for()

    run = stack.call(
        "POST", "/backoffice/jobs/nightly_tradein/runs", stack.token("web-tests-bo", "backoffice"), json={}
    )
    assert run.status_code in (200, 202), run.text
    stack.wait_for_status(claim_number, "2511 CV", "payout_scheduled")
    page.get_by_role("tab", name="Uitbetalingen").click()
    row = page.locator("#payouts tr", has_text=claim_number)
    row.wait_for()
    assert row.get_by_role("link", name="pain.001 downloaden").get_attribute("href")
    assert re.search(r"€\s100,00", row.inner_text())
