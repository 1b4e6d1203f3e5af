"""Masking of personal data for screens and back-office listings (T15).

Pure string work: no clock, no env, no I/O. Every function accepts what the participant shape
of API.md holds and never returns more than the mask documents; an empty value stays empty.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

_STAR = "*"


def _group(text: str, size: int = 4) -> str:
    return " ".join(text[i : i + size] for i in range(0, len(text), size))


def mask_iban(iban: str) -> str:
    """T15: keep the country code and the last four characters, grouped by four.

    `mask_iban("NL91ABNA0417164300") == "NL** **** **** **43 00"` (API.md's `NL** **** **** **12 34`).
    """
    compact = "".join(iban.split()).upper()
    if not compact:
        return ""
    if len(compact) <= 6:
        return _group(compact[:2] + _STAR * (len(compact) - 2))
    return _group(compact[:2] + _STAR * (len(compact) - 6) + compact[-4:])


def mask_email(email: str) -> str:
    """T15: first character of the mailbox and of the domain, and the top-level domain.

    `mask_email("jan.jansen@example.nl") == "j***@e***.nl"`.
    """
    address = email.strip()
    if not address:
        return ""
    local, at, domain = address.rpartition("@")
    if not at:
        return address[0] + _STAR * 3
    host, dot, tld = domain.rpartition(".")
    masked_domain = f"{host[:1]}***.{tld}" if dot and host else f"{domain[:1]}***"
    return f"{local[:1]}***@{masked_domain}"


def mask_phone(phone: str) -> str:
    """T15: every digit but the last two replaced by `*`; separators and `+` kept.

    `mask_phone("06-12345678") == "**-******78"`.
    """
    digits = sum(ch.isdigit() for ch in phone)
    keep_from = digits - 2
    seen = 0
    out: list[str] = []
    for ch in phone.strip():
        if ch.isdigit():
            out.append(ch if seen >= keep_from else _STAR)
            seen += 1
        else:
            out.append(ch)
    return "".join(out)


def mask_name(name: str) -> str:
    """T15: the first letter of each part followed by `***`: `mask_name("van Dijk") == "v*** D***"`."""
    return " ".join(f"{part[0]}***" for part in name.split())


def mask_postcode(postcode: str) -> str:
    """T15: keep the first two digits (the region) of a Dutch postcode: `"1234 AB"` -> `"12** **"`."""
    compact = "".join(postcode.split()).upper()
    if not compact:
        return ""
    masked = compact[:2] + _STAR * (len(compact) - 2)
    if len(compact) == 6:
        return f"{masked[:4]} {masked[4:]}"
    return masked


def mask_birth_date(birth_date: date | str) -> str:
    """T15: keep the year only: `date(1990, 5, 17)` or `"1990-05-17"` -> `"1990-**-**"`."""
    text = birth_date.isoformat() if isinstance(birth_date, date) else str(birth_date).strip()
    if not text:
        return ""
    return f"{text[:4]}-**-**"


def mask_house_number(value: Any) -> str:
    """T15: a house number (or its suffix) is hidden completely; an empty one stays empty."""
    text = "" if value is None else str(value).strip()
    return _STAR * len(text)


def mask_address(address: Mapping[str, Any]) -> dict[str, Any]:
    """T15: an API.md address with street, house number, postcode and city masked; country kept."""
    masked: dict[str, Any] = {}
    for key, value in address.items():
        if value is None:
            masked[key] = None
        elif key in ("street", "city"):
            masked[key] = mask_name(str(value))
        elif key in ("house_number", "house_number_suffix"):
            masked[key] = mask_house_number(value)
        elif key == "postcode":
            masked[key] = mask_postcode(str(value))
        elif key == "country":
            masked[key] = value
        else:
            masked[key] = _STAR * 3
    return masked


_MASKERS: dict[str, Callable[[Any], Any]] = {
    "first_name": lambda v: mask_name(str(v)),
    "last_name": lambda v: mask_name(str(v)),
    "account_holder": lambda v: mask_name(str(v)),
    "email": lambda v: mask_email(str(v)),
    "phone": lambda v: mask_phone(str(v)),
    "birth_date": mask_birth_date,
    "iban": lambda v: mask_iban(str(v)),
    "postcode": lambda v: mask_postcode(str(v)),
    "address": lambda v: mask_address(v) if isinstance(v, Mapping) else _STAR * 3,
}


def mask_participant(participant: Mapping[str, Any]) -> dict[str, Any]:
    """T15: a copy of API.md's participant with every personal field masked (address included).

    Missing or null fields stay as they are (null stays null); an unknown field is masked
    to `***` so that a field added later never leaks unmasked.
    """
    masked: dict[str, Any] = {}
    for key, value in participant.items():
        if value is None:
            masked[key] = None
        elif key in _MASKERS:
            masked[key] = _MASKERS[key](value)
        else:
            masked[key] = _STAR * 3
    return masked
