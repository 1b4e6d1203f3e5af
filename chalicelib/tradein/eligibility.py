"""Pure eligibility rules of the trade-in campaign (T1-T5, T7): the purchase, the registration
window, one claim per address and laptop, the participant, the declarations and the old laptop.
No clock, no environment, no boto: time and policy come in as arguments."""

from __future__ import annotations

import re
from datetime import date

from stdnum import iban as stdnum_iban

from chalicelib.address import Address
from chalicelib.dates import anniversary
from chalicelib.sales import Receipt
from chalicelib.tradein.rules import (
    Campaign,
    ClaimPolicy,
    Declarations,
    OldDevice,
    Participant,
    Refusal,
    day_number,
    normalise_postcode,
    registration_window,
)

BANK_FIELDS = ("iban", "account_holder")

_POSTCODE = re.compile(r"^[1-9][0-9]{3}(?!SA|SD|SS)[A-Z]{2}$")
_EMAIL = re.compile(r"^[^@\s]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}$")


# --- T1: the purchase ---------------------------------------------------------------------------


def check_purchase(receipt: Receipt, line_id: str, campaign: Campaign) -> Refusal | None:
    """T1: bought in the period, in a Dutch store or the webshop, a laptop line ≥ the minimum, not
    an excluded brand, sold by the retailer, not returned. (decision) Any returned unit of the line
    makes it ineligible, as it voids a claim (T12)."""
    reasons: list[str] = []
    if not campaign.starts_at <= receipt.purchased_at <= campaign.ends_at:
        reasons.append("OUTSIDE_CAMPAIGN_PERIOD")
    if receipt.channel not in campaign.channels:
        reasons.append("CHANNEL_EXCLUDED")
    elif receipt.channel == "store" and campaign.store_ids and receipt.store_id not in campaign.store_ids:
        reasons.append("STORE_EXCLUDED")
    line = receipt.line(line_id)
    if line is None:
        reasons.append("LINE_NOT_FOUND")
    else:
        if line.category.lower() != campaign.laptop_category or line.kind != "product" or line.seller != "retailer":
            reasons.append("NOT_A_LAPTOP")
        if line.unit_price_cents < campaign.min_line_price_cents:
            reasons.append("PRICE_TOO_LOW")
        if line.brand.strip().lower() in {b.lower() for b in campaign.excluded_brands}:
            reasons.append("BRAND_EXCLUDED")
        if receipt.returned.get(line_id, 0) > 0:
            reasons.append("RETURNED")
    if not reasons:
        return None
    return Refusal("PURCHASE_NOT_ELIGIBLE", "The purchase does not qualify for this campaign", {"reasons": reasons})


# --- T2: the registration window ----------------------------------------------------------------


def check_registration_window(purchase_date: date, today: date, campaign: Campaign) -> Refusal | None:
    """T2: registration only from day 30 to day 60 after purchase, the purchase day being day 1."""
    first, last = registration_window(purchase_date, campaign)
    if first <= today <= last:
        return None
    return Refusal(
        "OUTSIDE_REGISTRATION_WINDOW",
        f"Claims can be registered from day {campaign.window_first_day} to day {campaign.window_last_day} "
        "after purchase",
        {"opens_on": first.isoformat(), "closes_on": last.isoformat(), "day": day_number(purchase_date, today)},
    )


# --- T3: one claim per address and per laptop --------------------------------------------------


def address_key(campaign_id: str, address: Address) -> str:
    """The uniqueness key of an address within a campaign (T3): postcode + number + suffix, normalised."""
    suffix = re.sub(r"[^0-9A-Z]", "", (address.house_number_suffix or "").upper())
    return f"address#{campaign_id}#{normalise_postcode(address.postcode)}#{address.house_number}#{suffix}"


def purchase_key(receipt_id: str, line_id: str) -> str:
    """The uniqueness key of a purchased laptop (T3). (decision) One claim per receipt line."""
    return f"purchase#{receipt_id}#{line_id}"


# --- T4: the participant -------------------------------------------------------------------------


def sixteenth_birthday(birth_date: date) -> date:
    """The 16th birthday; someone born on 29 February has it on 1 March in a common year."""
    return anniversary(birth_date, 16)


def valid_iban(iban: str) -> bool:
    """An IBAN with a valid country format and checksum (ISO 13616, python-stdnum's registry)."""
    return bool(stdnum_iban.is_valid(iban))


def normalise_iban(iban: str) -> str:
    return re.sub(r"\s+", "", iban).upper()


def check_participant(participant: Participant, today: date, policy: ClaimPolicy) -> Refusal | None:
    """T4: living in the Netherlands (NL postcode), 16th birthday before the registration date,
    a well-formed e-mail address outside the excluded (employee) domains, a valid IBAN if given."""
    problems: list[dict[str, str]] = []
    address = participant.address
    if address.country.strip().upper() not in {"NL", "NLD", "NEDERLAND", "NETHERLANDS", "THE NETHERLANDS"}:
        problems.append({"field": "participant.address.country", "reason": "NOT_NETHERLANDS"})
    if not _POSTCODE.match(normalise_postcode(address.postcode)):
        problems.append({"field": "participant.address.postcode", "reason": "INVALID_POSTCODE"})
    if address.house_number < 1:
        problems.append({"field": "participant.address.house_number", "reason": "INVALID_HOUSE_NUMBER"})
    if not sixteenth_birthday(participant.birth_date) < today:
        problems.append({"field": "participant.birth_date", "reason": "TOO_YOUNG"})
    email = participant.email.strip()
    if not _EMAIL.match(email):
        problems.append({"field": "participant.email", "reason": "INVALID_EMAIL"})
    else:
        domain = email.rsplit("@", 1)[1].lower()
        if any(domain == d or domain.endswith("." + d) for d in (x.lower() for x in policy.employee_email_domains)):
            problems.append({"field": "participant.email", "reason": "EMPLOYEE_DOMAIN"})
    if participant.iban is not None and not valid_iban(participant.iban):
        problems.append({"field": "participant.iban", "reason": "INVALID_IBAN"})
    for name in ("first_name", "last_name", "phone"):
        if not str(getattr(participant, name)).strip():
            problems.append({"field": f"participant.{name}", "reason": "EMPTY"})
    if participant.account_holder is not None and not participant.account_holder.strip():
        problems.append({"field": "participant.account_holder", "reason": "EMPTY"})
    if not problems:
        return None
    return Refusal("PARTICIPANT_NOT_ELIGIBLE", "The participant does not meet the conditions", {"problems": problems})


def check_declarations(declarations: Declarations) -> Refusal | None:
    """T4: the participant declares being the legal owner, a private person, not an employee (or
    family), and that the old laptop's data has been removed."""
    missing = [name for name, value in vars(declarations).items() if value is not True]
    if not missing:
        return None
    return Refusal("DECLARATION_MISSING", "Every declaration must be confirmed", {"missing": sorted(missing)})


def missing_bank_details(participant: Participant) -> list[str]:
    """T7: the fields a claim still lacks before it can be confirmed."""
    return [name for name in BANK_FIELDS if not getattr(participant, name)]


# --- T5: the old laptop -------------------------------------------------------------------------


def check_device(device: OldDevice, today: date, campaign: Campaign) -> Refusal | None:
    """T5: working, complete, undamaged, battery and charger, screen ≥ 10 inch, at most 6 years
    old. (decision) At most 6 years old: the 6th anniversary of its purchase is on or after the
    registration date."""
    conditions = ("working", "complete", "undamaged", "battery_ok", "charger_included")
    failed = [name.upper() for name in conditions if getattr(device, name) is not True]
    if device.screen_inches < campaign.min_screen_inches:
        failed.append("SCREEN_TOO_SMALL")
    if device.purchased_on > today:
        failed.append("PURCHASE_DATE_IN_FUTURE")
    elif anniversary(device.purchased_on, campaign.max_device_age_years) < today:
        failed.append("TOO_OLD")
    if not failed:
        return None
    return Refusal("DEVICE_NOT_ELIGIBLE", "The old laptop does not meet the criteria", {"reasons": failed})
