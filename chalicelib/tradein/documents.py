"""The return form with its prepaid shipping label (T6), as a real PDF written here.

Page 1 is the return form (what goes in the box, the claim number, the ship-by date); page 2
the label (sender, return address, tracking code and its Code 39 barcode). Pure and
deterministic: the same label gives the same bytes (the PDF's creation date is the label's issue
date, not the clock). No env, no I/O.

The PDF is written by the small writer below rather than a PDF library: the label needs text in
the standard Helvetica fonts (every PDF reader has them, nothing is embedded), filled
rectangles and a dashed line, and a library with font embedding (fpdf2 pulls in fontTools and
Pillow, ~25 MB) would be most of the Lambda package.
"""

from __future__ import annotations

import hashlib
import unicodedata
import zlib
from dataclasses import dataclass, field
from datetime import date

from chalicelib.tradein.emails import dutch_date

_MM = 72 / 25.4  # PDF units (points) per millimetre
_PAGE_W, _PAGE_H = 210.0, 297.0  # A4 in mm
_MARGIN, _BOTTOM = 20.0, 15.0
_CELL_PADDING = 1.0  # mm of text inset on each side of a line, like a table cell
_FONTS = {"": ("F1", "Helvetica"), "B": ("F2", "Helvetica-Bold")}

# Adobe's AFM advance widths (1/1000 em) of the WinAnsi codes 32-255, regular and bold.
_WIDTHS = {
    "": (
        278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556,
        556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667,
        556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556,
        556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722,
        500, 500, 500, 334, 260, 334, 584, 350, 556, 350, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000,
        350, 611, 350, 350, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 350, 500, 667, 278, 333,
        556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737, 333, 400, 584, 333, 333, 333, 556, 537, 278,
        333, 333, 365, 556, 834, 834, 834, 611, 667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278,
        278, 278, 722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, 556, 556, 556, 556,
        556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278, 556, 556, 556, 556, 556, 556, 556, 584, 611, 556,
        556, 556, 556, 500, 556, 500,
    ),
    "B": (
        278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556,
        556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722,
        611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, 333, 556,
        611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778,
        556, 556, 500, 389, 280, 389, 584, 350, 556, 350, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000,
        350, 611, 350, 350, 278, 278, 500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 350, 500, 667, 278, 333,
        556, 556, 556, 556, 280, 556, 333, 737, 370, 556, 584, 333, 737, 333, 400, 584, 333, 333, 333, 611, 556, 278,
        333, 333, 365, 556, 834, 834, 834, 611, 722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278,
        278, 278, 722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, 556, 556, 556, 556,
        556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278, 611, 611, 611, 611, 611, 611, 611, 584, 611, 611,
        611, 611, 611, 556, 611, 556,
    ),
}  # fmt: skip

# Code 39: per character nine elements (bar, space, bar, ...), narrow or wide.
_CODE39 = {
    "0": "nnnwwnwnn", "1": "wnnwnnnnw", "2": "nnwwnnnnw", "3": "wnwwnnnnn", "4": "nnnwwnnnw", "5": "wnnwwnnnn",
    "6": "nnwwwnnnn", "7": "nnnwnnwnw", "8": "wnnwnnwnn", "9": "nnwwnnwnn", "A": "wnnnnwnnw", "B": "nnwnnwnnw",
    "C": "wnwnnwnnn", "D": "nnnnwwnnw", "E": "wnnnwwnnn", "F": "nnwnwwnnn", "G": "nnnnnwwnw", "H": "wnnnnwwnn",
    "I": "nnwnnwwnn", "J": "nnnnwwwnn", "K": "wnnnnnnww", "L": "nnwnnnnww", "M": "wnwnnnnwn", "N": "nnnnwnnww",
    "O": "wnnnwnnwn", "P": "nnwnwnnwn", "Q": "nnnnnnwww", "R": "wnnnnnwwn", "S": "nnwnnnwwn", "T": "nnnnwnwwn",
    "U": "wwnnnnnnw", "V": "nwwnnnnnw", "W": "wwwnnnnnn", "X": "nwnnwnnnw", "Y": "wwnnwnnnn", "Z": "nwwnwnnnn",
    "-": "nwnnnnwnw", ".": "wwnnnnwnn", " ": "nwwnnnwnn", "*": "nwnnwnwnn", "$": "nwnwnwnnn", "/": "nwnwnnnwn",
    "+": "nwnnnwnwn", "%": "nnnwnwnwn",
}  # fmt: skip


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


def _encode(text: str) -> bytes:
    # WinAnsi bytes of Latin-1 text (the two agree from 0xA0); control characters become "?".
    return "".join("?" if ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 else ch for ch in _latin1(text)).encode("latin-1")


def _width(raw: bytes, style: str, size: float) -> float:
    """Width in mm of WinAnsi bytes in Helvetica (`style` "" or "B") at `size` points."""
    widths = _WIDTHS[style]
    return sum(widths[b - 32] for b in raw) * size / 1000 / _MM


def _escape(raw: bytes) -> bytes:
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if value % 1 else str(int(value))


@dataclass
class _Document:
    """Pages of drawing operators with a cursor (mm from the top left), as fpdf lays out lines."""

    info: dict[str, str]
    pages: list[list[str]] = field(default_factory=list)
    x: float = _MARGIN
    y: float = _MARGIN

    def add_page(self) -> None:
        self.pages.append([])
        self.x, self.y = _MARGIN, _MARGIN

    def _op(self, op: str) -> None:
        self.pages[-1].append(op)

    def set_xy(self, x: float, y: float) -> None:
        self.x, self.y = x, y

    def ln(self, height: float) -> None:
        self.x, self.y = _MARGIN, self.y + height

    def text(self, text: str, size: float = 11, style: str = "", height: float = 6) -> None:
        """`text` wrapped at word boundaries to the width from the cursor to the right margin."""
        width = _PAGE_W - _MARGIN - self.x - 2 * _CELL_PADDING
        for line in _wrap(_encode(text), style, size, width):
            if self.y + height > _PAGE_H - _BOTTOM:
                self.add_page()
            baseline = self.y + height / 2 + 0.3 * size / _MM
            x, y = (self.x + _CELL_PADDING) * _MM, (_PAGE_H - baseline) * _MM
            self._op(f"BT /{_FONTS[style][0]} {_num(size)} Tf {x:.2f} {y:.2f} Td (")
            self.pages[-1][-1] += _escape(line).decode("latin-1") + ") Tj ET"
            self.x, self.y = _MARGIN, self.y + height

    def rect(self, x: float, y: float, w: float, h: float, *, fill: bool, dash: float = 0, line: float = 0.2) -> None:
        corner = f"{x * _MM:.2f} {(_PAGE_H - y - h) * _MM:.2f} {w * _MM:.2f} {h * _MM:.2f} re"
        if fill:
            self._op(f"0 g {corner} f")
        else:
            pattern = f"[{_num(dash * _MM)} {_num(dash * _MM)}] 0 d" if dash else "[] 0 d"
            self._op(f"{line * _MM:.2f} w {pattern} {corner} S [] 0 d")

    def code39(self, text: str, x: float, y: float, narrow: float, h: float) -> None:
        """A Code 39 barcode of `text` (with its `*` start and stop characters), wide bars 3x narrow."""
        for ch in text:
            for i, element in enumerate(_CODE39[ch]):
                w = narrow * (3 if element == "w" else 1)
                if i % 2 == 0:
                    self.rect(x, y, w, h, fill=True)
                x += w
            x += narrow

    def output(self) -> bytes:
        objects: list[bytes] = [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"",  # the page tree, once the pages' numbers are known
            *(
                f"<< /Type /Font /Subtype /Type1 /BaseFont /{name} /Encoding /WinAnsiEncoding >>".encode()
                for _, name in _FONTS.values()
            ),
        ]
        fonts = " ".join(f"/{ref} {n} 0 R" for n, (ref, _) in enumerate(_FONTS.values(), start=3))
        kids = []
        for ops in self.pages:
            stream = zlib.compress("\n".join(ops).encode("latin-1"), 9)
            objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream")
            kids.append(len(objects) + 1)
            objects.append(
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {_PAGE_W * _MM:.2f} {_PAGE_H * _MM:.2f}] "
                f"/Resources << /Font << {fonts} >> >> /Contents {len(objects)} 0 R >>".encode()
            )
        objects[1] = f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>".encode()
        info = " ".join(f"/{key} ({_escape(_encode(value)).decode('latin-1')})" for key, value in self.info.items())
        objects.append(f"<< {info} >>".encode("latin-1"))

        out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(objects, start=1):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
        out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n" % (len(objects) + 1, len(objects))
        out += b"startxref\n%d\n%%%%EOF\n" % xref
        return bytes(out)


def _wrap(raw: bytes, style: str, size: float, width: float) -> list[bytes]:
    """Lines of at most `width` mm, broken at spaces (a word longer than a line is cut)."""
    lines: list[bytes] = []
    current = b""
    for word in raw.split(b" "):
        candidate = current + b" " + word if current else word
        if _width(candidate, style, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while _width(current, style, size) > width and len(current) > 1:
            cut = len(current) - 1
            while cut > 1 and _width(current[:cut], style, size) > width:
                cut -= 1
            lines.append(current[:cut])
            current = current[cut:]
    lines.append(current)
    return lines


def _new_document(label: ShippingLabel) -> _Document:
    created = label.issued_on.strftime("D:%Y%m%d000000")
    return _Document(
        info={
            "Title": f"Retourformulier {label.claim_number}",
            "Author": label.campaign_name,
            "Subject": "Retourformulier en verzendlabel",
            "Creator": "tradein",
            "Producer": "chalicelib.tradein.documents",
            "CreationDate": created,
        }
    )


def _line_text(pdf: _Document, text: str, size: float = 11, style: str = "", height: float = 6) -> None:
    pdf.text(text, size=size, style=style, height=height)


def _block(pdf: _Document, lines: tuple[str, ...], size: float = 12) -> None:
    for line in lines:
        _line_text(pdf, line, size=size, height=6.5)


def _return_form(pdf: _Document, label: ShippingLabel) -> None:
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


def _label(pdf: _Document, label: ShippingLabel) -> None:
    pdf.add_page()
    left, top, width, height = 20.0, 20.0, 170.0, 120.0
    pdf.rect(left - 5, top - 5, width + 10, height + 10, fill=False, dash=2, line=0.6)
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

    barcode_y = pdf.y
    pdf.code39(f"*{label.tracking_code}*", x=left, y=barcode_y, narrow=0.8 / 3, h=18)
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
    return pdf.output()
