"""The return form with its prepaid shipping label (T6), as a real PDF drawn with fpdf2.

Page 1 is the return form (what goes in the box, the claim number, the ship-by date); page 2
the label (sender, return address, tracking code and its Code 39 barcode, which fpdf2 draws
natively). Pure and deterministic: the same label gives the same bytes (the PDF's creation date
is the label's issue date, not the clock). No env, no I/O.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from chalicelib.tradein.emails import dutch_date

if TYPE_CHECKING:
    from fpdf import FPDF

# fpdf2 (with fontTools) takes ~0.4 s to import: it is imported when a label is made, not on every
# cold start of the API.

_AMSTERDAM = ZoneInfo("Europe/Amsterdam")
_FONT = "helvetica"


@dataclass(frozen=True)
class ShippingLabel:
    """What the return form and label print. Addresses are lines as they go on the parcel."""

    claim_number: str
    campaign_name: str
    sender_name: str
    sender_address_lines: tuple[str, ...]
    return_address_lines: tuple[str, ...]
    tracking_code: str
    issued_on: date
    ship_by: date


def tracking_code(claim_number: str) -> str:
    """T6: the parcel's tracking code, deterministic per claim: `3S` + 13 digits.

    Derived from a hash of the normalised claim number, so a retry of the confirmation gives
    the same label; only uppercase letters and digits, so Code 39 can draw it.
    """
    normalised = "".join(claim_number.split()).upper()
    if not normalised:
        raise ValueError("claim_number must not be empty")
    digest = hashlib.sha256(f"tradein-label:{normalised}".encode()).digest()
    return "3S" + str(int.from_bytes(digest[:8], "big") % 10**13).zfill(13)


# Latin letters without a Unicode decomposition, and typography that Latin-1 lacks.
_TYPOGRAPHY = {
    "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "\u0131": "i", "Œ": "OE", "œ": "oe", "Ŀ": "L", "ŀ": "l",
    "€": "EUR", "\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
    "\u2026": "...",
}  # fmt: skip


def _latin1(text: str) -> str:
    # The PDF core fonts hold Latin-1 only: fold accents that Latin-1 lacks, replace the rest.
    if all(ord(ch) < 256 for ch in text):
        return text
    return "".join(
        ch
        if ord(ch) < 256
        else _TYPOGRAPHY.get(ch) or unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode() or "?"
        for ch in text
    )


def _new_document(label: ShippingLabel) -> FPDF:
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_creation_date(datetime.combine(label.issued_on, time(0, 0), tzinfo=_AMSTERDAM))
    pdf.set_title(_latin1(f"Retourformulier {label.claim_number}"))
    pdf.set_author(_latin1(label.campaign_name))
    pdf.set_subject("Retourformulier en verzendlabel")
    pdf.set_creator("tradein")
    pdf.set_producer("fpdf2")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_margins(20, 20, 20)
    return pdf


def _line_text(pdf: FPDF, text: str, size: float = 11, style: str = "", height: float = 6) -> None:
    from fpdf.enums import XPos, YPos

    pdf.set_font(_FONT, style=style, size=size)
    pdf.multi_cell(0, height, _latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _block(pdf: FPDF, lines: tuple[str, ...], size: float = 12) -> None:
    for line in lines:
        _line_text(pdf, line, size=size, height=6.5)


def _return_form(pdf: FPDF, label: ShippingLabel) -> None:
    pdf.add_page()
    _line_text(pdf, label.campaign_name, size=11, style="B")
    _line_text(pdf, "Retourformulier", size=20, style="B", height=10)
    pdf.ln(2)
    _line_text(pdf, f"Claimnummer: {label.claim_number}", size=14, style="B", height=8)
    _line_text(pdf, f"Datum: {dutch_date(label.issued_on)}")
    _line_text(pdf, f"Uw oude laptop moet uiterlijk {dutch_date(label.ship_by)} bij ons binnen zijn.", style="B")
    pdf.ln(4)
    _line_text(pdf, "Wat gaat er in de doos?", size=13, style="B", height=8)
    for item in (
        "uw oude laptop, compleet en werkend",
        "de accu (werkend) en de voeding/oplader",
        "dit retourformulier (pagina 1)",
    ):
        _line_text(pdf, f"-  {item}")
    pdf.ln(3)
    _line_text(pdf, "Voordat u het pakket verstuurt", size=13, style="B", height=8)
    for step in (
        "Maak een back-up en verwijder al uw persoonlijke gegevens van de laptop.",
        "Verpak de laptop stevig, bij voorkeur in de originele doos of met voldoende opvulmateriaal.",
        "Plak het verzendlabel (pagina 2) op de doos en lever het pakket in bij een PostNL-punt. "
        "Verzenden is gratis: het label is gefrankeerd.",
        "Bewaar het bewijs van afgifte met de trackingcode hieronder.",
    ):
        _line_text(pdf, f"-  {step}")
    pdf.ln(3)
    _line_text(pdf, f"Trackingcode: {label.tracking_code}", style="B")
    _line_text(
        pdf,
        f"Volg uw claim met claimnummer {label.claim_number} en uw postcode. U krijgt een e-mail zodra "
        "wij uw laptop hebben ontvangen, en na de keuring een e-mail met de uitkomst.",
        size=10,
    )


def _label(pdf: FPDF, label: ShippingLabel) -> None:
    pdf.add_page()
    left, top, width, height = 20.0, 20.0, 170.0, 120.0
    pdf.set_line_width(0.6)
    pdf.set_dash_pattern(dash=2, gap=2)
    pdf.rect(left - 5, top - 5, width + 10, height + 10)
    pdf.set_dash_pattern()
    pdf.set_xy(left - 5, top - 10)
    _line_text(pdf, "Knip of vouw langs de stippellijn", size=8, height=4)

    pdf.set_xy(left, top)
    _line_text(pdf, "GEFRANKEERD RETOURLABEL - PORT BETAALD", size=12, style="B")
    _line_text(pdf, f"{label.campaign_name} - claim {label.claim_number}", size=10)
    pdf.ln(3)
    _line_text(pdf, "Afzender", size=9, style="B", height=5)
    _block(pdf, (label.sender_name, *label.sender_address_lines), size=10)
    pdf.ln(4)
    _line_text(pdf, "Aan", size=9, style="B", height=5)
    _block(pdf, label.return_address_lines, size=15)
    pdf.ln(4)

    barcode_y = pdf.get_y()
    pdf.set_fill_color(0, 0, 0)
    pdf.code39(f"*{label.tracking_code}*", x=left, y=barcode_y, w=0.8, h=18)
    pdf.set_xy(left, barcode_y + 20)
    _line_text(pdf, label.tracking_code, size=12, style="B")
    _line_text(pdf, f"Uiterlijk binnen op {dutch_date(label.ship_by)}", size=9)


def shipping_label_pdf(label: ShippingLabel) -> bytes:
    """T6: the return form (page 1) and the prepaid shipping label (page 2) as PDF bytes."""
    if not label.claim_number.strip():
        raise ValueError("claim_number must not be empty")
    if not label.return_address_lines:
        raise ValueError("return_address_lines must not be empty")
    pdf = _new_document(label)
    _return_form(pdf, label)
    _label(pdf, label)
    return bytes(pdf.output())
