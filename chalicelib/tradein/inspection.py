"""The back office's decisions on a claim (T8, T9, T13) and the void of a claim whose new
laptop was returned (T12). Every retry of the same decision answers the same (API.md "Back office")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from chalicelib import clock
from chalicelib.errors import Conflict, NotFound, Unprocessable
from chalicelib.events import ReceiptReturned
from chalicelib.tradein import eligibility, lifecycle, outbox, rules, store, views
from chalicelib.tradein.lifecycle import claim_or_404
from chalicelib.tradein.store import StaleClaim


@lifecycle.answers
def device_received(claim_number: str, received_on: date, now: datetime) -> dict[str, Any]:
    """T8: the old laptop arrived. By day 60 → `device_received` with an e-mail; later → `rejected`
    (the call still succeeds), and the participant may ask for it back (T10)."""
    claim = claim_or_404(claim_number)
    today = clock.local_date(now)
    if received_on > today:
        raise Unprocessable("RECEIVED_ON_IN_FUTURE", "received_on may not be after today")
    if claim.received_on == received_on and (
        claim.status == "device_received" or (claim.status == "rejected" and claim.reason == "LAPTOP_RECEIVED_LATE")
    ):
        # A retry answers the same (API.md "Back office") and sends what the first left owed.
        return views.backoffice_json(lifecycle.flush(claim, now))
    if claim.status == "lapsed" and claim.lapse_reason != "DEVICE_NOT_RECEIVED":
        raise Conflict("ILLEGAL_TRANSITION", "This claim has lapsed", {"from": claim.status, "to": "rejected"})
    # A claim lapsed for a missing laptop is judged by the day the laptop arrived, not by the day
    # the arrival was recorded: received by day 60 but recorded after the nightly run is in time.
    if rules.is_late_arrival(received_on, claim.device_by):
        reason = "LAPTOP_RECEIVED_LATE"
        claim = lifecycle.move(
            claim,
            "rejected",
            now,
            detail=reason,
            reason=reason,
            received_on=received_on,
            return_request_by=rules.return_request_by(today, lifecycle.policy()),
            email=outbox.RejectedLate(received_on=received_on, deadline=claim.device_by),
        )
    else:
        claim = lifecycle.move(claim, "device_received", now, received_on=received_on, email=outbox.DeviceReceived())
    return views.backoffice_json(lifecycle.flush(claim, now))


@lifecycle.answers
def inspect(
    claim_number: str, outcome: rules.Outcome, reward_cents: int | None, reason: str | None, now: datetime
) -> dict[str, Any]:
    """T9: approved (full reward), revised (a lower reward), or rejected with a reason; e-mailed."""
    claim = claim_or_404(claim_number)
    text = (reason or "").strip() or None
    campaign = store.get_campaign(claim.campaign_id)
    same = campaign is not None and claim.status == outcome and claim.reason == text
    if same and campaign and rules.inspection_reward(outcome, reward_cents, campaign) == claim.reward_cents:
        # A retry answers the same (API.md "Back office") and sends what the first left owed.
        return views.backoffice_json(lifecycle.flush(claim, now))
    if not rules.can_transition(claim.status, outcome):
        raise Conflict(
            "ILLEGAL_TRANSITION",
            f"A claim in status {claim.status} cannot become {outcome}",
            {"from": claim.status, "to": outcome},
        )
    if campaign is None:
        raise NotFound("CAMPAIGN_NOT_FOUND", "The claim's campaign is gone")
    reward = rules.inspection_reward(outcome, reward_cents, campaign)
    if isinstance(reward, rules.Refusal):
        raise Unprocessable(reward.code, reward.message, reward.details)
    today = clock.local_date(now)
    if outcome == "rejected":
        deadline = rules.return_request_by(today, lifecycle.policy())
        claim = lifecycle.move(
            claim,
            "rejected",
            now,
            detail=text,
            reason=text,
            reward_cents=0,
            return_request_by=deadline,
            email=outbox.Rejected(reason=text or "", return_request_by=deadline),
        )
    else:
        facts: outbox.Facts = (
            outbox.Revised(reward_cents=reward, reason=text or "")
            if outcome == "revised"
            else outbox.Approved(reward_cents=reward)
        )
        claim = lifecycle.move(
            claim,
            outcome,
            now,
            detail=text,
            reason=text,
            reward_cents=reward,
            approved_status=outcome,
            success_notified_on=today,
            email=facts,
        )
    return views.backoffice_json(lifecycle.flush(claim, now))


@lifecycle.answers
def disqualify(claim_number: str, reason: str, now: datetime) -> dict[str, Any]:
    """T13: the organiser disqualifies a claim; the decision is final."""
    claim = claim_or_404(claim_number)
    if claim.status == "disqualified" and claim.reason == reason:
        # A retry answers the same (API.md "Back office") and sends what the first left owed.
        return views.backoffice_json(lifecycle.flush(claim, now))
    claim = lifecycle.move(
        claim, "disqualified", now, detail=reason, reason=reason, email=outbox.Disqualified(reason=reason)
    )
    return views.backoffice_json(lifecycle.flush(claim, now))


# --- T12: the new laptop returned ----------------------------------------------------------------


@lifecycle.answers
def void_for_return(event: ReceiptReturned) -> list[str]:
    """Void claims whose new laptop was returned (T12); returns their claim numbers.

    (decision) Any returned unit of the claimed line voids the claim. Idempotent: a replay of the
    same return lists the claims it voided before.
    """
    now = clock.now()
    voided: list[str] = []
    for line in event.receipt.lines:
        if event.receipt.returned.get(line.line_id, 0) <= 0:
            continue
        number = store.claim_number_for(eligibility.purchase_key(event.receipt.receipt_id, line.line_id))
        claim = store.get_claim(number) if number else None
        if claim is None:
            continue
        already = claim.status == "void" and claim.void_return_id == event.return_id
        if already or _void(claim, event.return_id, now):
            voided.append(claim.claim_number)
    return voided


def _void(claim: rules.Claim, return_id: str, now: datetime) -> bool:
    if claim.status not in rules.VOIDABLE:
        return False
    try:
        moved = lifecycle.move(
            claim, "void", now, detail="LAPTOP_RETURNED", void_return_id=return_id, email=outbox.Void()
        )
    except StaleClaim:
        return False
    lifecycle.flush(moved, now)
    return True
