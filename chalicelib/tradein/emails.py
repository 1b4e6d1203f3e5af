"""The trade-in e-mails, in Dutch (T6-T13): one template per claim event, taking that event's
typed facts (`outbox`, checked when the claim moved).

Every e-mail names the claim number and the next step. It carries no personal data beyond the
first name and, for payouts, the masked IBAN (T15): the recipient address is only the envelope.
Amounts come in integer cents (G4) and are shown Dutch-style (`€ 100,00`); dates as
`27 augustus 2017`. Pure: no clock, no env, no I/O — sending is `chalicelib.mail.send`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape
from typing import assert_never
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict

from chalicelib.message import Email
from chalicelib.tradein import outbox

_MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)

# Field names of API.md's participant, as a participant reads them (T7 "incomplete" e-mail).
_FIELD_LABELS = {
    "iban": "IBAN (bankrekeningnummer)",
    "account_holder": "naam van de rekeninghouder",
    "first_name": "voornaam",
    "last_name": "achternaam",
    "email": "e-mailadres",
    "phone": "telefoonnummer",
    "birth_date": "geboortedatum",
    "address": "adres",
    "proof": "aankoopbewijs",
}

_SIGNATURE = "Met vriendelijke groet,\nHet team van de inruilactie"


def dutch_date(day: date) -> str:
    """A calendar date as Dutch text: `date(2017, 8, 27)` -> `"27 augustus 2017"`."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def euro(cents: int) -> str:
    """G4: integer cents as a Dutch euro amount: `10000` -> `"€ 100,00"`, `123456` -> `"€ 1.234,56"`."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError("an amount is integer cents")
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"€ {sign}{whole:,}".replace(",", ".") + f",{rest:02d}"


class _Envelope(BaseModel):
    """Who gets the e-mail and what it links to, checked like the facts (`outbox`)."""

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    to: outbox.Text
    claim_number: outbox.Text
    first_name: outbox.Text
    tracking_url: outbox.Url
    label_url: outbox.Url | None = None


# ---- the templates ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Body:
    subject: str
    paragraphs: tuple[str, ...]
    next_step: str
    link: tuple[str, str] | None = None  # (text, url)


# Why a proof was refused (rules.proof_refusal), as a participant reads it.
_PROOF_REASONS = {
    "EMPTY": "het bestand was leeg",
    "TOO_LARGE": "het bestand was groter dan 10 MB",
    "UNSUPPORTED_TYPE": "het bestand was geen PDF, JPEG of PNG",
}


def _render(f: outbox.Facts, label_url: str | None) -> _Body:
    if isinstance(f, outbox.ProofRefused):
        why = _PROOF_REASONS.get(f.reason, "het bestand kon niet worden gecontroleerd")
        return _Body(
            "Uw aankoopbewijs kon niet worden gebruikt",
            (f"We konden het aankoopbewijs dat u uploadde niet gebruiken: {why}.",),
            "Upload uw aankoopbewijs opnieuw (een PDF, JPEG of PNG van maximaal 10 MB) via 'Volg uw "
            f"claim' met uw claimnummer en postcode, uiterlijk {dutch_date(f.upload_by)}.",
        )
    if isinstance(f, outbox.Confirmation):
        if label_url is None:
            raise ValueError("the confirmation links its return form: label_url")
        return _Body(
            "Uw registratie is compleet: stuur uw oude laptop op",
            (
                "Uw registratie voor de inruilactie is gecontroleerd en compleet.",
                "In het retourformulier leest u wat er in de doos moet: uw oude laptop met accu en "
                "voeding, en het retourformulier zelf. Verwijder vooraf uw persoonlijke gegevens "
                "van de laptop.",
            ),
            "Download het retourformulier met het gefrankeerde verzendlabel, print het en stuur "
            f"het pakket op. Uw oude laptop moet uiterlijk {dutch_date(f.ship_by)} bij ons binnen "
            "zijn; verstuur het pakket daarom op tijd.",
            ("Retourformulier en verzendlabel (PDF)", label_url),
        )
    if isinstance(f, outbox.Incomplete):
        fields = ", ".join(_FIELD_LABELS.get(name, name.replace("_", " ")) for name in f.missing)
        return _Body(
            "Uw registratie is nog niet compleet",
            (f"Bij het controleren van uw registratie misten we de volgende gegevens: {fields}.",),
            f"Vul deze gegevens uiterlijk {dutch_date(f.complete_by)} aan via 'Volg uw claim' met "
            "uw claimnummer en postcode. Daarna vervalt uw claim.",
        )
    if isinstance(f, outbox.DeviceReceived):
        return _Body(
            "Wij hebben uw oude laptop ontvangen",
            ("Uw oude laptop is bij ons binnengekomen.",),
            "We keuren het apparaat nu. U hoeft niets te doen: u krijgt een e-mail met de uitkomst.",
        )
    if isinstance(f, outbox.Approved):
        return _Body(
            "Uw oude laptop is goedgekeurd",
            (f"Goed nieuws: uw oude laptop is goedgekeurd. U ontvangt {euro(f.reward_cents)}.",),
            "U hoeft niets te doen: we maken het bedrag binnen 30 dagen over op uw rekening.",
        )
    if isinstance(f, outbox.Revised):
        return _Body(
            "Uw oude laptop is gekeurd: aangepaste vergoeding",
            (
                f"Uw oude laptop is gekeurd. Op basis van de staat van het apparaat ontvangt u {euro(f.reward_cents)}.",
                f"Toelichting van de keurder: {f.reason}",
            ),
            "U hoeft niets te doen: we maken het bedrag binnen 30 dagen over op uw rekening.",
        )
    if isinstance(f, outbox.Rejected):
        return _Body(
            "Uw oude laptop is afgekeurd",
            (
                "Uw oude laptop voldoet helaas niet aan de voorwaarden van de inruilactie; u ontvangt geen vergoeding.",
                f"Reden: {f.reason}",
            ),
            "Wilt u uw oude laptop terug? Vraag dat uiterlijk "
            f"{dutch_date(f.return_request_by)} aan via 'Volg uw claim' met uw claimnummer en "
            "postcode. Daarna kunt u het apparaat niet meer terugvragen.",
        )
    if isinstance(f, outbox.RejectedLate):
        return _Body(
            "Uw oude laptop is te laat ontvangen",
            (
                f"Uw oude laptop is op {dutch_date(f.received_on)} bij ons binnengekomen. Dat is na "
                f"de uiterste datum van {dutch_date(f.deadline)}; uw claim is daarom afgewezen.",
            ),
            "Wilt u uw oude laptop terug? Vraag dat binnen 14 werkdagen na deze e-mail aan via "
            "'Volg uw claim' met uw claimnummer en postcode.",
        )
    if isinstance(f, outbox.ReturnRequested):
        return _Body(
            "Uw verzoek om uw oude laptop terug te sturen",
            ("We hebben uw verzoek ontvangen om uw oude laptop terug te sturen.",),
            "U hoeft niets te doen: we sturen het apparaat naar het adres van uw registratie.",
        )
    if isinstance(f, outbox.PayoutScheduled):
        return _Body(
            "Uw vergoeding staat klaar voor betaling",
            (
                f"We maken {euro(f.amount_cents)} over op rekening {f.iban_masked}. De betaling "
                f"staat ingepland voor {dutch_date(f.execution_date)}.",
            ),
            "U hoeft niets te doen: het bedrag staat enkele werkdagen na die datum op uw rekening.",
        )
    if isinstance(f, outbox.Paid):
        return _Body(
            "Uw vergoeding is betaald",
            (f"We hebben {euro(f.amount_cents)} overgemaakt op rekening {f.iban_masked}.",),
            "U hoeft niets meer te doen: hiermee is uw claim afgerond.",
        )
    if isinstance(f, outbox.Void):
        return _Body(
            "Uw inruilclaim is vervallen",
            ("U heeft uw nieuwe laptop geretourneerd. Daarmee vervalt uw inruilclaim.",),
            "U hoeft niets te doen: de claim is afgesloten.",
        )
    if isinstance(f, outbox.Lapsed):
        return _Body(
            "Uw inruilclaim is vervallen",
            ("Uw inruilclaim is vervallen.", f"Reden: {f.reason}"),
            "U hoeft niets te doen: de claim is afgesloten.",
        )
    if isinstance(f, outbox.Disqualified):
        return _Body(
            "Uw inruilclaim is uitgesloten",
            ("Uw inruilclaim is uitgesloten van deelname aan de inruilactie.", f"Reden: {f.reason}"),
            "Dit besluit is definitief; de claim is afgesloten.",
        )
    assert_never(f)


def tracking_url(public_web_url: str, claim_number: str) -> str:
    """The tracking page with the claim number filled in (API.md: every e-mail links to it)."""
    return f"{public_web_url.rstrip('/')}/volg.html?claim={quote(claim_number, safe='')}"


def compose(
    facts: outbox.Facts,
    to: str,
    claim_number: str,
    first_name: str,
    *,
    tracking_url: str,
    label_url: str | None = None,
) -> Email:
    """T6-T13: the Dutch e-mail of one claim event (`facts`, checked when the claim moved: see
    `outbox`), with the claim number, the next step and a link to the tracking page
    (`tracking_url`, see `tracking_url()`). The confirmation (T6) also links its return form
    with the label (`label_url`, a presigned GET made when it goes out). An empty or malformed
    envelope raises ValueError (pydantic's ValidationError)."""
    envelope = _Envelope(
        to=to, claim_number=claim_number, first_name=first_name, tracking_url=tracking_url, label_url=label_url
    )
    number, track = envelope.claim_number, envelope.tracking_url
    body = _render(facts, envelope.label_url)

    subject = f"{body.subject} (claim {number})"
    greeting = f"Beste {envelope.first_name},"
    reference = f"Claimnummer: {number}"
    next_step = f"Volgende stap: {body.next_step}"
    tracking = f"Volg uw claim met claimnummer {number} en uw postcode: {track}"

    text_parts = [greeting, reference, *body.paragraphs]
    if body.link:
        text_parts.append(f"{body.link[0]}: {body.link[1]}")
    text_parts += [next_step, tracking, _SIGNATURE]
    text = "\n\n".join(text_parts) + "\n"

    html_parts = [f"<p>{escape(p)}</p>" for p in (greeting, reference, *body.paragraphs)]
    if body.link:
        html_parts.append(f'<p><a href="{escape(body.link[1])}">{escape(body.link[0])}</a></p>')
    html_parts += [
        f"<p><strong>Volgende stap:</strong> {escape(body.next_step)}</p>",
        f'<p>Volg uw claim met claimnummer {escape(number)} en uw postcode: <a href="{escape(track)}">'
        f"{escape(track)}</a></p>",
        "<p>" + escape(_SIGNATURE).replace("\n", "<br>") + "</p>",
    ]
    html = '<!DOCTYPE html><html lang="nl"><body>' + "".join(html_parts) + "</body></html>"
    return Email(to=envelope.to, subject=subject, text=text, html=html)
