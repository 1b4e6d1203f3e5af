"""A participant registers a claim in the browser, uploads the proof straight to S3 (moto's
server, a cross-origin POST from the pages' origin) and follows the claim on the tracking page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.stack import PDF, Stack

pytestmark = pytest.mark.browser


def _fill_claim_form(page: Any, receipt_id: str, postcode: str, birth_date: str) -> None:
    page.get_by_label("Bonnummer").fill(receipt_id)
    page.get_by_label("Regelnummer van de laptop").fill("1")
    page.get_by_label("Voornaam").fill("Sanne")
    page.get_by_label("Achternaam").fill("de Vries")
    page.get_by_label("E-mailadres").fill("sanne.devries@example.nl")
    page.get_by_label("Telefoonnummer").fill("06 1234 5678")
    page.get_by_label("Geboortedatum").fill(birth_date)
    page.get_by_label("Postcode").fill(postcode)
    page.get_by_label("Huisnummer").fill("12")
    page.get_by_label("Straat").fill("Damrak")
    page.get_by_label("Plaats").fill("Amsterdam")
    page.get_by_label("IBAN").fill("NL91ABNA0417164300")
    page.get_by_label("Naam rekeninghouder").fill("S. de Vries")
    page.get_by_label("Merk").fill("HP")
    page.get_by_label("Model").fill("EliteBook 840")
    page.get_by_label("Schermdiagonaal (inch)").fill("14,0")
    page.get_by_label("Gekocht op").fill("2023-03-01")
    for label in (
        "werkend",
        "compleet",
        "onbeschadigd (redelijke slijtage mag)",
        "met een werkende batterij",
        "met voeding (die ik meestuur)",
    ):
        page.get_by_label(label, exact=True).check()
    for declaration in ("rechtmatige eigenaar", "als particulier", "geen medewerker", "verwijder al mijn gegevens"):
        page.get_by_label(re.compile(declaration)).check()
    page.get_by_label("Kassabon of factuur").set_input_files(
        {"name": "kassabon.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )


@pytest.mark.rule("T2", "T4", "T14")
def test_a_claim_from_the_form_through_the_upload_to_tracking(page: Any, stack: Stack) -> None:
    receipt_id = stack.laptop_receipt(days_ago=35)
    uploads: list[Any] = []
    page.on("request", lambda r: uploads.append(r) if r.method == "POST" and r.url.startswith(stack.moto_url) else None)

    page.goto(f"{stack.web_url}/inruil.html")
    page.get_by_role("heading", name=re.compile("meer laptop")).first.wait_for()
    assert page.get_by_text("van dag 30 tot en met dag 60 na uw aankoop").first.is_visible()

    # nothing filled in: the page says what is missing, per field, without calling the API
    page.get_by_role("button", name="Claim registreren").click()
    summary = page.get_by_role("alert")
    assert "Controleer" in summary.inner_text()
    assert page.locator("#receipt_id").get_attribute("aria-invalid") == "true"
    assert "Vul het bonnummer in." in page.locator("#receipt_id-error").inner_text()

    # a 17-year-old: the API refuses (422 PARTICIPANT_NOT_ELIGIBLE / TOO_YOUNG), shown at the field
    _fill_claim_form(page, receipt_id, "1012 JS", "2015-01-01")
    page.get_by_role("button", name="Claim registreren").click()
    page.locator("#p-birth-error").get_by_text("18 jaar").wait_for()
    assert page.locator("#p-birth").get_attribute("aria-invalid") == "true"
    assert "Met deze gegevens kunt u niet deelnemen" in summary.inner_text()

    page.get_by_label("Geboortedatum").fill("1985-04-12")
    page.get_by_role("button", name="Claim registreren").click()
    title = page.get_by_role("heading", name=re.compile(r"Uw claim \w+"))
    title.wait_for()
    claim_number = title.inner_text().split()[-1]
    page.get_by_text("Wacht op uw oude laptop").wait_for(timeout=30_000)

    assert len(uploads) == 1, "one POST straight from the browser to S3"
    assert uploads[0].header_value("origin") == stack.web_url, "a cross-origin POST from the pages' origin"
    assert page.locator("#upload-progress").evaluate("bar => bar.value") == 100

    page.get_by_role("link", name="Volg uw claim").last.click()
    page.wait_for_url(re.compile(rf"volg\.html\?claim={claim_number}$"))
    assert page.get_by_label("Claimnummer").input_value() == claim_number
    page.get_by_label("Postcode").fill("1012js")
    page.get_by_role("button", name="Zoeken").click()
    page.get_by_role("heading", name=f"Claim {claim_number}").wait_for()
    assert page.locator("#claim-status").inner_text() == "Wacht op uw oude laptop"
    assert "Stuur uw oude laptop op" in page.locator("#next-step").inner_text()
    assert "Oude laptop bij ons vóór of op" in page.locator("#deadlines").inner_text()
    timeline = page.locator("#timeline li").all_inner_texts()
    assert timeline[0].startswith("Wacht op aankoopbewijs") and "Wacht op uw oude laptop" in timeline[-1]


@pytest.mark.rule("T14")
def test_tracking_with_a_wrong_postcode_tells_nothing_about_the_claim(page: Any, stack: Stack) -> None:
    claim_number = stack.claim_with_proof("3511 AB", "volg.fout@example.nl")
    page.goto(f"{stack.web_url}/volg.html?claim={claim_number}")
    page.get_by_label("Postcode").fill("9999 ZZ")
    page.get_by_role("button", name="Zoeken").click()
    page.get_by_text("Wij vinden geen claim met dit claimnummer en deze postcode").wait_for()
    assert page.locator("#claim-view").is_hidden()
