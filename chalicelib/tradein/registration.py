"""Registering a claim (T1-T5, T13): the checks, the claim with its uniqueness items in one
transaction, the IP watch, and the presigned upload for the proof."""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from chalicelib import clock
from chalicelib.config import settings
from chalicelib.errors import Conflict, NotFound
from chalicelib.ids import random_code
from chalicelib.observability import logger
from chalicelib.sales import Receipt
from chalicelib.tradein import eligibility, files, lifecycle, rules, store, views
from chalicelib.tradein.lifecycle import refuse

FLAG_IP_VELOCITY = "IP_VELOCITY"


@dataclass(frozen=True)
class Registration:
    campaign_id: str
    receipt_id: str
    laptop_line_id: str
    participant: rules.Participant
    old_device: rules.OldDevice
    declarations: rules.Declarations
    proof_content_type: str = "application/pdf"


@lifecycle.answers
def register_claim(
    registration: Registration, receipt: Receipt | None, client_ip: str, now: datetime
) -> tuple[dict[str, Any], bool]:
    """T1-T5: check the purchase, the window, the participant, the declarations and the old
    laptop; write the claim with one uniqueness item per address and per laptop (T3) in one
    transaction; record the client IP (T13); answer with a presigned upload for the proof.
    Returns (answer, created): a retry of the same registration answers the same claim.
    `receipt` is the registration's receipt as loyalty holds it (chalicelib.flows reads it)."""
    campaign = store.get_campaign(registration.campaign_id)
    if campaign is None:
        raise NotFound("CAMPAIGN_NOT_FOUND", "No campaign with this id")
    if receipt is None:
        raise NotFound("RECEIPT_NOT_FOUND", "No receipt with this id")
    today = clock.local_date(now)
    purchase_date = clock.local_date(receipt.purchased_at)
    participant = registration.participant
    if participant.iban is not None:
        participant = replace(participant, iban=eligibility.normalise_iban(participant.iban))
    policy = lifecycle.policy()
    refuse(eligibility.check_purchase(receipt, registration.laptop_line_id, campaign))
    refuse(eligibility.check_registration_window(purchase_date, today, campaign))
    refuse(eligibility.check_participant(participant, today, policy))
    refuse(eligibility.check_declarations(registration.declarations))
    refuse(eligibility.check_device(registration.old_device, today, campaign))

    _, last_day = rules.registration_window(purchase_date, campaign)
    keys = [
        eligibility.address_key(campaign.campaign_id, participant.address),
        eligibility.purchase_key(receipt.receipt_id, registration.laptop_line_id),
    ]
    for _ in range(5):
        number = random_code(settings().tradein_claim_number_length)
        # T14: the participant's look-up key, written with the claim (see `lifecycle.claim_or_404`).
        lookup = rules.tracking_key(number, participant.address.postcode)
        claim = rules.Claim(
            claim_number=number,
            campaign_id=campaign.campaign_id,
            receipt_id=receipt.receipt_id,
            laptop_line_id=registration.laptop_line_id,
            status="awaiting_proof",
            version=1,
            registered_at=now,
            purchase_date=purchase_date,
            participant=participant,
            old_device=registration.old_device,
            client_ip=client_ip,
            registration_by=last_day,
            device_by=rules.device_deadline(purchase_date, campaign),
            timeline=(rules.TimelineEntry(now, "awaiting_proof", "status"),),
        )
        try:
            store.create_claim(claim, [*keys, lookup])
            break
        except store.ClaimNumberTaken:
            continue
        except store.Contended:
            # Another registration held one of the same items: back off, then the retry either
            # commits or meets the uniqueness condition (T3).
            time.sleep(random.uniform(0.05, 0.2))  # noqa: S311 - jitter, not security
            continue
        except store.KeyTaken as taken:
            replayed = _replayed(registration, participant, keys[1], now)
            if replayed is None:
                raise Conflict(
                    f"{taken.kind.upper()}_ALREADY_CLAIMED",
                    "This address already has a claim in this campaign"
                    if taken.kind == "address"
                    else "This laptop has already been claimed",
                ) from None
            return replayed, False
    else:
        raise Conflict("CLAIM_NUMBER_EXHAUSTED", "Could not allocate a claim number; try again")
    logger.info("claim registered", extra={"claim_number": claim.claim_number, "campaign_id": campaign.campaign_id})
    _watch_ip(claim, today, now)
    return _registered(claim, registration.proof_content_type, now), True


def _registered(claim: rules.Claim, content_type: str, now: datetime) -> dict[str, Any]:
    waiting = claim.status == "awaiting_proof"
    return views.registered_json(
        claim, files.presigned_upload(claim.claim_number, content_type, now) if waiting else None
    )


def _replayed(
    registration: Registration, participant: rules.Participant, purchase: str, now: datetime
) -> dict[str, Any] | None:
    """A retried registration (same purchase, same participant and laptop) answers with its claim
    instead of 409, as every retried write does; any other payload for that laptop stays a 409."""
    number = store.claim_number_for(purchase)
    existing = store.get_claim(number) if number else None
    if existing is None or (existing.campaign_id, existing.participant, existing.old_device) != (
        registration.campaign_id,
        participant,
        registration.old_device,
    ):
        return None
    return _registered(existing, registration.proof_content_type, now)


def _watch_ip(claim: rules.Claim, today: date, now: datetime) -> None:
    """T13: count registrations per IP address and day; flag a claim beyond the configured number.
    The key holds a hash of the address, not the address."""
    digest = hashlib.sha256(claim.client_ip.encode()).hexdigest()[:24]
    if store.count_ip(f"ip#{today.isoformat()}#{digest}") > lifecycle.policy().ip_velocity_per_day:
        lifecycle.flag(claim, FLAG_IP_VELOCITY, now)
