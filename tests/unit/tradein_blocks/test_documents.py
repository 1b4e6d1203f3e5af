"""The return form with its prepaid shipping label (T6): a real, readable, two-page PDF."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import date

import pytest
from pypdf import PdfReader

from chalicelib.tradein.documents import ShippingLabel, shipping_label_pdf, tracking_code


def _label(**changes: object) -> ShippingLabel:
    label = ShippingLabel(
        claim_number="K7X-92QF",
        campaign_name="Inruilactie laptops 2017",
        sender_name="Jozefien van der Berg",
        sender_address_lines=("Kerkstraat 271", "1017 GC  Amsterdam"),
        return_address_lines=("Inruilactie Retourcentrum", "Antwoordnummer 1234", "5600 VB  Eindhoven"),
        tracking_code=tracking_code("K7X-92QF"),
        issued_on=date(2017, 9, 20),
        ship_by=date(2017, 10, 5),
    )
    return replace(label, **changes)  # type: ignore[arg-type]


def _pages(pdf: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


@pytest.mark.rule("T6")
def test_is_a_pdf_of_two_pages() -> None:
    pdf = shipping_label_pdf(_label())
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 2


@pytest.mark.rule("T6")
def test_page_one_is_the_return_form_in_dutch() -> None:
    form = _pages(shipping_label_pdf(_label()))[0]
    assert "Retourformulier" in form
    assert "Claimnummer: K7X-92QF" in form
    assert "uiterlijk 5 oktober 2017" in form
    assert "Wat gaat er in de doos?" in form
    assert "oude laptop" in form and "accu" in form and "voeding" in form
    assert "20 september 2017" in form


@pytest.mark.rule("T6")
def test_page_two_is_the_label_with_both_addresses_and_the_tracking_code() -> None:
    label = _label()
    page = _pages(shipping_label_pdf(label))[1]
    assert "GEFRANKEERD RETOURLABEL" in page
    assert "K7X-92QF" in page
    for line in (label.sender_name, *label.sender_address_lines, *label.return_address_lines):
        assert " ".join(line.split()) in page
    assert label.tracking_code in page


@pytest.mark.rule("T6")
def test_page_two_carries_a_drawn_barcode() -> None:
    reader = PdfReader(io.BytesIO(shipping_label_pdf(_label())))
    contents = reader.pages[1].get_contents()
    assert contents is not None
    stream = contents.get_data()
    # Code 39 draws five bars per character: start, 15 characters and stop give 85 filled rectangles.
    assert len(re.findall(rb" re f", stream)) >= 85
    first = reader.pages[0].get_contents()
    assert first is not None and len(re.findall(rb" re f", first.get_data())) == 0


@pytest.mark.rule("T6")
def test_the_same_label_gives_the_same_bytes() -> None:
    assert shipping_label_pdf(_label()) == shipping_label_pdf(_label())
    assert shipping_label_pdf(_label()) != shipping_label_pdf(_label(ship_by=date(2017, 10, 6)))


@pytest.mark.rule("T6")
def test_names_outside_latin_1_do_not_break_the_pdf() -> None:
    label = _label(
        sender_name="Łukasz Żółć \u2013 Zoë",
        campaign_name="Inruilactie € 100",
        sender_address_lines=("Ulica Świętego Ducha 3", "80-834 Gdańsk"),
    )
    page = _pages(shipping_label_pdf(label))[1]
    assert "Lukasz Zólc - Zoë" in page
    assert "Gdansk" in page
    assert "Inruilactie EUR 100" in page


@pytest.mark.rule("T6")
def test_a_long_address_line_wraps_instead_of_leaving_the_page() -> None:
    long_line = "Burgemeester van Nispen tot Sevenaerstraat 1234 bis, tweede verdieping achter " * 2
    page = _pages(shipping_label_pdf(_label(sender_address_lines=(long_line,))))[1]
    assert "tweede verdieping achter" in page


def test_a_label_needs_a_claim_number_and_a_return_address() -> None:
    with pytest.raises(ValueError):
        shipping_label_pdf(_label(claim_number=" "))
    with pytest.raises(ValueError):
        shipping_label_pdf(_label(return_address_lines=()))


@pytest.mark.rule("T6")
def test_tracking_code_is_deterministic_per_claim_and_barcode_safe() -> None:
    code = tracking_code("K7X-92QF")
    assert code == tracking_code("K7X-92QF") == tracking_code(" k7x-92qf ")
    assert re.fullmatch(r"3S\d{13}", code)
    assert len({tracking_code(f"CLAIM-{i}") for i in range(2000)}) == 2000
    with pytest.raises(ValueError):
        tracking_code("")


@pytest.mark.rule("T6")
def test_brackets_and_backslashes_in_a_name_are_printed_as_written() -> None:
    page = _pages(shipping_label_pdf(_label(sender_name="Jan (de) Vries \\ B.V.")))[1]
    assert "Jan (de) Vries \\ B.V." in page
