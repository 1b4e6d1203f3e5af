"""The participant's own steps (T7, T10, T14): tracking a claim, a fresh proof upload,
completing missing bank details and asking for a rejected laptop back. Each finds the claim by
its number and postcode only (`lifecycle.claim_or_404`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from chalicelib import clock
from chalicelib.errors import Conflict, Unprocessable
from chalicelib.tradein import eligibility, files, lifecycle, outbox, rules, views
from chalicelib.tradein.lifecycle import claim_or_404, refuse


def track_claim(claim_number: str, postcode: str) -> dict[str, Any]:
    """T14: a claim's status by claim number and postcode."""
    return views.tracking_json(claim_or_404(claim_number, postcode))


def fresh_upload(claim_number: str, postcode: str, content_type: str, now: datetime) -> dict[str, Any]:
    """A new presigned upload while the claim still waits for its proof (T2)."""
    claim = claim_or_404(claim_number, postcode)
    late = claim.status == "lapsed" and claim.lapse_reason in {"PROOF_NOT_RECEIVED", "PROOF_LATE"}
    if claim.status != "awaiting_proof" and not late:
        raise Conflict(
            "PROOF_ALREADY_RECEIVED" if claim.proof_key else "ILLEGAL_TRANSITION",
            "This claim is not waiting for a proof of purchase",
            {"status": claim.status},
        )
    if late or rules.is_past(claim.registration_by, clock.local_date(now)):
        raise Unprocessable(
            "OUTSIDE_REGISTRATION_WINDOW",
            "The registration window has closed",
            {"closes_on": claim.registration_by.isoformat()},
        )
    return views.upload_json(claim, files.presigned_upload(claim.claim_number, content_type, now))


@lifecycle.answers
def complete_claim(
    claim_number: str, postcode: str, iban: str | None, account_holder: str | None, now: datetime
) -> dict[str, Any]:
    """T7: an `incomplete` claim gets its missing bank details within 7 working days and moves on
    to `awaiting_device` with the confirmation e-mail (T6)."""
    claim = claim_or_404(claim_number, postcode)
    today = clock.local_date(now)
    if claim.status != "incomplete" and _completed_with(claim, iban, account_holder):
        return views.tracking_json(claim)  # a retried completion answers the same
    late = claim.status == "lapsed" and claim.lapse_reason == "NOT_COMPLETED"
    if claim.status != "incomplete" and not late:
        raise Conflict(
            "ILLEGAL_TRANSITION",
            "Only an incomplete claim can be completed",
            {"from": claim.status, "to": "awaiting_device"},
        )
    if late or rules.is_past(claim.complete_by, today):
        raise Unprocessable(
            "COMPLETION_DEADLINE_PASSED",
            "The period to complete this claim has ended",
            {"complete_by": claim.complete_by.isoformat() if claim.complete_by else None},
        )
    participant = replace(
        claim.participant,
        iban=eligibility.normalise_iban(iban) if iban is not None else claim.participant.iban,
        account_holder=account_holder.strip() if account_holder is not None else claim.participant.account_holder,
    )
    refuse(eligibility.check_participant(participant, today, lifecycle.policy()))
    missing = eligibility.missing_bank_details(participant)
    if missing:
        raise Unprocessable("DATA_STILL_MISSING", "Some required data is still missing", {"missing": missing})
    claim = lifecycle.confirm(replace(claim, participant=participant), now)
    return views.tracking_json(claim)


def _completed_with(claim: rules.Claim, iban: str | None, account_holder: str | None) -> bool:
    """Whether the claim was completed (T7) with exactly these bank details."""
    was_incomplete = any(e.event == "status" and e.status == "incomplete" for e in claim.timeline)
    return (
        was_incomplete
        and claim.status not in {"under_review", "lapsed"}
        and iban is not None
        and account_holder is not None
        and eligibility.normalise_iban(iban) == claim.participant.iban
        and account_holder.strip() == claim.participant.account_holder
    )


@lifecycle.answers
def request_return(claim_number: str, postcode: str, now: datetime) -> dict[str, Any]:
    """T10: after a rejection the participant may ask for the old laptop back within 14 working
    days (200); a retry of that request answers the same (200); anything else is 422, also after
    the nightly run lapsed the claim for a request that never came."""
    claim = claim_or_404(claim_number, postcode)
    if claim.status == "return_requested":
        return views.tracking_json(claim)
    late = claim.status == "lapsed" and claim.lapse_reason == "RETURN_NOT_REQUESTED"
    if late or (claim.status == "rejected" and rules.is_past(claim.return_request_by, clock.local_date(now))):
        raise Unprocessable(
            "RETURN_REQUEST_TOO_LATE",
            "The period to ask for the laptop back has ended",
            {"return_request_by": claim.return_request_by.isoformat() if claim.return_request_by else None},
        )
    if claim.status != "rejected":
        raise Unprocessable(
            "RETURN_REQUEST_NOT_ALLOWED",
            "Only a rejected claim's laptop can be asked back",
            {"status": claim.status},
        )
    claim = lifecycle.move(claim, "return_requested", now, email=outbox.ReturnRequested())
    return views.tracking_json(lifecycle.flush(claim, now))
