"""The trade-in e-mails, in Dutch (T6-T13): one template per claim event.

Every e-mail names the claim number and the next step. It carries no personal data beyond the
first name and, for payouts, the masked IBAN (T15): the recipient address is only the envelope.
Amounts come in integer cents (G4) and are shown Dutch-style (`€ 100,00`); dates as
`27 augustus 2017`. Pure: no clock, no env, no I/O — sending is `chalicelib.mail.send`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from typing import Any, Literal
from urllib.parse import quote

from chalicelib.mail import Email

EmailKind = Literal[
    "proof_refused",
    "confirmation",
    "incomplete",
    "device_received",
    "approved",
    "revised",
    "rejected",
    "rejected_late",
    "return_requested",
    "payout_scheduled",
    "paid",
    "void",
    "lapsed",
    "disqualified",
]

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


# ---- the facts each kind needs -------------------------------------------------------------


def _date(name: str, value: Any) -> date:
    # A datetime is a date subclass but carries a time zone question: refuse it.
    if not isinstance(value, date) or isinstance(value, datetime):
        raise TypeError(f"{name} must be a date")
    return value


def _cents(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be integer cents")
    if value <= 0:
        raise ValueError(f"{name} must be positive")
    return value


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string")
    if not value.strip():
        raise ValueError(f"{name} must not be empty")
    return value.strip()


def _url(name: str, value: Any) -> str:
    url = _text(name, value)
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"{name} must be an http(s) URL")
    return url


def _names(name: str, value: Any) -> list[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{name} must be a list of field names")
    if not value:
        raise ValueError(f"{name} must not be empty")
    return list(value)


def _masked_iban(name: str, value: Any) -> str:
    # T15: refuse a full IBAN so that a slip in the caller never mails one.
    text = _text(name, value)
    if "*" not in text:
        raise ValueError(f"{name} must be masked (chalicelib.tradein.masking.mask_iban)")
    return text


_Check = Callable[[str, Any], Any]

FACTS: Mapping[str, Mapping[str, _Check]] = {
    "proof_refused": {"reason": _text, "upload_by": _date},
    "confirmation": {"label_url": _url, "ship_by": _date},
    "incomplete": {"missing": _names, "complete_by": _date},
    "device_received": {},
    "approved": {"reward_cents": _cents},
    "revised": {"reward_cents": _cents, "reason": _text},
    "rejected": {"reason": _text, "return_request_by": _date},
    "rejected_late": {"received_on": _date, "deadline": _date},
    "return_requested": {},
    "payout_scheduled": {"amount_cents": _cents, "execution_date": _date, "iban_masked": _masked_iban},
    "paid": {"amount_cents": _cents, "iban_masked": _masked_iban},
    "void": {},
    "lapsed": {"reason": _text},
    "disqualified": {"reason": _text},
}


def _checked(kind: str, facts: Mapping[str, Any]) -> dict[str, Any]:
    if kind not in FACTS:
        raise ValueError(f"unknown e-mail kind {kind!r}")
    wanted = FACTS[kind]
    missing = sorted(set(wanted) - set(facts))
    if missing:
        raise TypeError(f"{kind} e-mail needs {', '.join(missing)}")
    unexpected = sorted(set(facts) - set(wanted))
    if unexpected:
        raise TypeError(f"{kind} e-mail takes no {', '.join(unexpected)}")
    return {name: check(name, facts[name]) for name, check in wanted.items()}


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


def _render(kind: str, f: Mapping[str, Any]) -> _Body:
    if kind == "proof_refused":
        why = _PROOF_REASONS.get(f["reason"], "het bestand kon niet worden gecontroleerd")
        return _Body(
            "Uw aankoopbewijs kon niet worden gebruikt",
            (f"We konden het aankoopbewijs dat u uploadde niet gebruiken: {why}.",),
            "Upload uw aankoopbewijs opnieuw (een PDF, JPEG of PNG van maximaal 10 MB) via 'Volg uw "
            f"claim' met uw claimnummer en postcode, uiterlijk {dutch_date(f['upload_by'])}.",
        )
    if kind == "confirmation":
        return _Body(
            "Uw registratie is compleet: stuur uw oude laptop op",
            (
                "Uw registratie voor de inruilactie is gecontroleerd en compleet.",
                "In het retourformulier leest u wat er in de doos moet: uw oude laptop met accu en "
                "voeding, en het retourformulier zelf. Verwijder vooraf uw persoonlijke gegevens "
                "van de laptop.",
            ),
            "Download het retourformulier met het gefrankeerde verzendlabel, print het en stuur "
            f"het pakket op. Uw oude laptop moet uiterlijk {dutch_date(f['ship_by'])} bij ons binnen "
            "zijn; verstuur het pakket daarom op tijd.",
            ("Retourformulier en verzendlabel (PDF)", f["label_url"]),
        )
    if kind == "incomplete":
        fields = ", ".join(_FIELD_LABELS.get(name, name.replace("_", " ")) for name in f["missing"])
        return _Body(
            "Uw registratie is nog niet compleet",
            (f"Bij het controleren van uw registratie misten we de volgende gegevens: {fields}.",),
            f"Vul deze gegevens uiterlijk {dutch_date(f['complete_by'])} aan via 'Volg uw claim' met "
            "uw claimnummer en postcode. Daarna vervalt uw claim.",
        )
    if kind == "device_received":
        return _Body(
            "Wij hebben uw oude laptop ontvangen",
            ("Uw oude laptop is bij ons binnengekomen.",),
            "We keuren het apparaat nu. U hoeft niets te doen: u krijgt een e-mail met de uitkomst.",
        )
    if kind == "approved":
        return _Body(
            "Uw oude laptop is goedgekeurd",
            (f"Goed nieuws: uw oude laptop is goedgekeurd. U ontvangt {euro(f['reward_cents'])}.",),
            "U hoeft niets te doen: we maken het bedrag binnen 30 dagen over op uw rekening.",
        )
    if kind == "revised":
        return _Body(
            "Uw oude laptop is gekeurd: aangepaste vergoeding",
            (
                f"Uw oude laptop is gekeurd. Op basis van de staat van het apparaat ontvangt u "
                f"{euro(f['reward_cents'])}.",
                f"Toelichting van de keurder: {f['reason']}",
            ),
            "U hoeft niets te doen: we maken het bedrag binnen 30 dagen over op uw rekening.",
        )
    if kind == "rejected":
        return _Body(
            "Uw oude laptop is afgekeurd",
            (
                "Uw oude laptop voldoet helaas niet aan de voorwaarden van de inruilactie; u ontvangt geen vergoeding.",
                f"Reden: {f['reason']}",
            ),
            "Wilt u uw oude laptop terug? Vraag dat uiterlijk "
            f"{dutch_date(f['return_request_by'])} aan via 'Volg uw claim' met uw claimnummer en "
            "postcode. Daarna kunt u het apparaat niet meer terugvragen.",
        )
    if kind == "rejected_late":
        return _Body(
            "Uw oude laptop is te laat ontvangen",
            (
                f"Uw oude laptop is op {dutch_date(f['received_on'])} bij ons binnengekomen. Dat is na "
                f"de uiterste datum van {dutch_date(f['deadline'])}; uw claim is daarom afgewezen.",
            ),
            "Wilt u uw oude laptop terug? Vraag dat binnen 14 werkdagen na deze e-mail aan via "
            "'Volg uw claim' met uw claimnummer en postcode.",
        )
    if kind == "return_requested":
        return _Body(
            "Uw verzoek om uw oude laptop terug te sturen",
            ("We hebben uw verzoek ontvangen om uw oude laptop terug te sturen.",),
            "U hoeft niets te doen: we sturen het apparaat naar het adres van uw registratie.",
        )
    if kind == "payout_scheduled":
        return _Body(
            "Uw vergoeding staat klaar voor betaling",
            (
                f"We maken {euro(f['amount_cents'])} over op rekening {f['iban_masked']}. De betaling "
                f"staat ingepland voor {dutch_date(f['execution_date'])}.",
            ),
            "U hoeft niets te doen: het bedrag staat enkele werkdagen na die datum op uw rekening.",
        )
    if kind == "paid":
        return _Body(
            "Uw vergoeding is betaald",
            (f"We hebben {euro(f['amount_cents'])} overgemaakt op rekening {f['iban_masked']}.",),
            "U hoeft niets meer te doen: hiermee is uw claim afgerond.",
        )
    if kind == "void":
        return _Body(
            "Uw inruilclaim is vervallen",
            ("U heeft uw nieuwe laptop geretourneerd. Daarmee vervalt uw inruilclaim.",),
            "U hoeft niets te doen: de claim is afgesloten.",
        )
    if kind == "lapsed":
        return _Body(
            "Uw inruilclaim is vervallen",
            ("Uw inruilclaim is vervallen.", f"Reden: {f['reason']}"),
            "U hoeft niets te doen: de claim is afgesloten.",
        )
    return _Body(
        "Uw inruilclaim is uitgesloten",
        ("Uw inruilclaim is uitgesloten van deelname aan de inruilactie.", f"Reden: {f['reason']}"),
        "Dit besluit is definitief; de claim is afgesloten.",
    )


def tracking_url(public_web_url: str, claim_number: str) -> str:
    """The tracking page with the claim number filled in (API.md: every e-mail links to it)."""
    return f"{public_web_url.rstrip('/')}/volg.html?claim={quote(claim_number, safe='')}"


def compose(kind: EmailKind, to: str, claim_number: str, first_name: str, *, tracking_url: str, **facts: Any) -> Email:
    """T6-T13: the Dutch e-mail of one claim event, with the claim number, the next step and a
    link to the tracking page (`tracking_url`, see `tracking_url()`).

    Facts per kind (all required; a missing, unexpected or mistyped fact raises TypeError,
    an empty or impossible value ValueError; dates are `date`, amounts integer cents):

    - `proof_refused` (T2, T13): `reason: str` (`rules.proof_refusal`), `upload_by: date` (the
      last day of the registration window)
    - `confirmation` (T6): `label_url: str` (presigned GET of the return form + label PDF),
      `ship_by: date` (the last day the old laptop must have arrived, T8)
    - `incomplete` (T7): `missing: list[str]` (participant field names, e.g. `["iban",
      "account_holder"]`), `complete_by: date` (`add_working_days(sent_on, 7)`)
    - `device_received` (T8): none
    - `approved` (T9): `reward_cents: int`
    - `revised` (T9): `reward_cents: int`, `reason: str`
    - `rejected` (T9, T10): `reason: str`, `return_request_by: date` (`add_working_days(sent_on, 14)`)
    - `rejected_late` (T8): `received_on: date`, `deadline: date`
    - `return_requested` (T10): none
    - `payout_scheduled` (T11): `amount_cents: int`, `execution_date: date`, `iban_masked: str`
      (must be masked: `mask_iban`)
    - `paid` (T11): `amount_cents: int`, `iban_masked: str`
    - `void` (T12): none
    - `lapsed` (T7, T8, T10): `reason: str`
    - `disqualified` (T13): `reason: str`
    """
    checked = _checked(kind, facts)
    recipient = _text("to", to)
    number = _text("claim_number", claim_number)
    name = _text("first_name", first_name)
    track = _url("tracking_url", tracking_url)
    body = _render(kind, checked)

    subject = f"{body.subject} (claim {number})"
    greeting = f"Beste {name},"
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
    return Email(to=recipient, subject=subject, text=text, html=html)
