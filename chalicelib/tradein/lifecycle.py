"""A claim's life: the one module that changes a claim's status, timeline and outbox (T6-T13).

Every status change goes through `move` (or, for a payout batch's claims, `move_to_batch` and
`back_from_batch`), which checks the one state machine (`rules.TRANSITIONS`), writes a timeline
entry and, in the same conditional write, the e-mail the change owes the participant (the
claim's outbox). E-mails are sent after the write by `flush` and struck from the outbox with a
timeline entry; the nightly run sends whatever an interrupted run left owed (T6).
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from chalicelib import clock, mail
from chalicelib.config import settings
from chalicelib.errors import Conflict, NotFound, Unprocessable
from chalicelib.observability import logger
from chalicelib.tradein import documents, eligibility, emails, files, outbox, payout_store, rules, store
from chalicelib.tradein.masking import mask_iban
from chalicelib.tradein.policy import claim_policy
from chalicelib.tradein.store import StaleClaim

P = ParamSpec("P")
R = TypeVar("R")


def policy() -> rules.ClaimPolicy:
    """The claim policy as configured now (G5)."""
    return claim_policy()


def answers(use_case: Callable[P, R]) -> Callable[P, R]:
    """What the client hears when a claim changed under a use case and its retries ran out:
    409 CLAIM_CHANGED (read it again). The store only says so (StaleClaim)."""

    @functools.wraps(use_case)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return use_case(*args, **kwargs)
        except StaleClaim as exc:
            raise Conflict(
                "CLAIM_CHANGED", "The claim changed meanwhile; read it again", {"reference": exc.reference}
            ) from None

    return run


def refuse(refusal: rules.Refusal | None) -> None:
    """A rule's refusal is the client's 422 with the rule's code."""
    if refusal is not None:
        raise Unprocessable(refusal.code, refusal.message, refusal.details)


# --- reading a claim -----------------------------------------------------------------------------


def claim_or_404(claim_number: str, postcode: str | None = None) -> rules.Claim:
    """T14: a participant (who gives a postcode) finds a claim only by the key derived from its
    number and postcode, so a wrong postcode is the same miss as an unknown number: the same
    404, the same single read, the same time. The back office (no postcode) reads by number."""
    number = claim_number.strip().upper()
    if postcode is None:
        claim = store.get_claim(number)
    else:
        claim = store.claim_for_participant(number, rules.tracking_key(number, postcode))
    if claim is None:
        raise NotFound("CLAIM_NOT_FOUND", "No claim with this number and postcode")
    return claim


def current(number: str, status: str) -> rules.Claim | None:
    """The claim as it is now, if still in `status` (the due index is eventually consistent)."""
    claim = store.get_claim(number)
    return claim if claim is not None and claim.status == status else None


# --- changing a claim ----------------------------------------------------------------------------


def _outbox_item(claim: rules.Claim, facts: outbox.Facts, now: datetime) -> rules.OutboxItem:
    """The e-mail a change owes, its facts stored as JSON; `owed_on` is the day its deadlines
    were counted from (see `_sent_late`)."""
    return rules.OutboxItem(f"{facts.kind}-{claim.version + 1}", facts.kind, outbox.dump(facts), clock.local_date(now))


def move(
    claim: rules.Claim,
    target: rules.Status,
    now: datetime,
    *,
    detail: str | None = None,
    email: outbox.Facts | None = None,
    claim_key: str | None = None,
    **changes: Any,
) -> rules.Claim:
    """Move a claim to `target` if the state machine allows it (else 409 ILLEGAL_TRANSITION),
    with a timeline entry and the e-mail it owes, in one conditional write."""
    if not rules.can_transition(claim.status, target):
        raise Conflict(
            "ILLEGAL_TRANSITION",
            f"A claim in status {claim.status} cannot become {target}",
            {"from": claim.status, "to": target},
        )
    owed = claim.outbox if email is None else (*claim.outbox, _outbox_item(claim, email, now))
    after = replace(claim, status=target, version=claim.version + 1, outbox=owed, **changes)
    entry = rules.TimelineEntry(now, target, "status", detail)
    moved = store.save_change(claim, after, [entry], clock.local_date(now), claim_key)
    logger.info("claim moved", extra={"claim_number": claim.claim_number, "from": claim.status, "to": target})
    return moved


def note(
    claim: rules.Claim,
    event: str,
    detail: str,
    now: datetime,
    *,
    email: outbox.Facts | None = None,
    claim_key: str | None = None,
    **changes: Any,
) -> rules.Claim:
    """A timeline entry without a status change (a flag, a refused proof), with the e-mail it
    owes, in one conditional write. Raises StaleClaim when the claim changed meanwhile."""
    owed = claim.outbox if email is None else (*claim.outbox, _outbox_item(claim, email, now))
    after = replace(claim, version=claim.version + 1, outbox=owed, **changes)
    entry = rules.TimelineEntry(now, claim.status, event, detail)
    return store.save_change(claim, after, [entry], clock.local_date(now), claim_key)


def flag(claim: rules.Claim, name: str, now: datetime) -> rules.Claim:
    """Add a fraud flag (T13) with a timeline entry, re-reading a claim that changed meanwhile."""
    for _ in range(3):
        if name in claim.flags:
            return claim
        try:
            return note(claim, "flag", name, now, flags=(*claim.flags, name))
        except StaleClaim:
            claim = claim_or_404(claim.claim_number)
    return claim


# --- the outbox ----------------------------------------------------------------------------------


def flush(claim: rules.Claim, now: datetime) -> rules.Claim:
    """Send the e-mails a claim owes (see `flush_counting`)."""
    return flush_counting(claim, now)[0]


def flush_counting(claim: rules.Claim, now: datetime) -> tuple[rules.Claim, int]:
    """Send the e-mails a claim owes, each struck from its outbox with a timeline entry (T6-T13).

    Each e-mail is first claimed with a conditional write (`store.claim_email`), so that
    concurrent senders (a redelivered S3 event, overlapping nightly runs) send it once: the
    holder sends and marks it sent; the others leave it to the holder, or only strike it when it
    went out already. A send that fails releases its claim for the next run. The one window left:
    a crash after SES accepted the e-mail and before it is marked sent (docs/tradein.md).
    Returns the claim and how many e-mails this call sent."""
    sent = 0
    while claim.outbox:
        item = claim.outbox[0]
        facts = outbox.load(item.kind, item.facts)  # before the lease: a bad item holds none
        key = f"email#{claim.claim_number}#{item.item_id}"
        token = secrets.token_hex(16)
        moment = clock.now()
        lease_from = moment - timedelta(seconds=settings().tradein_email_lease_seconds)
        try:
            state, sent_on = store.claim_email(key, claim.claim_number, token, moment, lease_from)
        except Exception:
            # The claim may have been written before the error (a lost answer): give it back, or
            # a redelivery and the next run would find it held by a sender that is gone.
            store.release_email(key, token)
            raise
        if state == "busy":
            logger.info("e-mail held by another sender", extra={"claim_number": claim.claim_number, "kind": item.kind})
            return claim, sent
        claim, facts = _sent_late(claim, item, facts, sent_on or clock.local_date(now))
        if state == "claimed":
            try:
                _send(claim, facts, now)
            except Exception:
                store.release_email(key, token)
                raise
            _mark_sent(key)
            sent += 1
        claim = strike(claim, item, now)
    return claim, sent


def _mark_sent(key: str, attempts: int = 3) -> None:
    """Record that SES took the e-mail, trying again on an error: an e-mail whose mark is lost
    would be sent a second time once its sending lease has run out."""
    for attempt in range(1, attempts + 1):
        try:
            store.mark_email_sent(key, clock.now())
            return
        except Exception:
            if attempt == attempts:
                raise
            logger.warning("marking an e-mail sent failed; trying again", extra={"attempt": attempt})


def _send(claim: rules.Claim, facts: outbox.Facts, now: datetime) -> None:
    email = emails.compose(
        facts,
        to=claim.participant.email,
        claim_number=claim.claim_number,
        first_name=claim.participant.first_name,
        tracking_url=emails.tracking_url(settings().public_web_url, claim.claim_number),
        label_url=_label_url(claim, now) if isinstance(facts, outbox.Confirmation) else None,
    )
    mail.send(email, reference=claim.claim_number)


def _sent_late(
    claim: rules.Claim, item: rules.OutboxItem, facts: outbox.Facts, sent_on: date
) -> tuple[rules.Claim, outbox.Facts]:
    """T7/T10 count working days from the day the e-mail went out (API.md). The deadline was
    computed once, when the claim moved and the e-mail was owed; only an e-mail that goes out on
    a later day (sent by the nightly run after a failure) moves its deadline with it, saved with
    the e-mail's strike. An item from before `owed_on` was stored is checked the same way."""
    if item.owed_on is not None and sent_on <= item.owed_on:
        return claim, facts
    if isinstance(facts, outbox.Incomplete) and claim.status == "incomplete":
        due = rules.complete_by(sent_on, policy())
        if claim.complete_by is None or due > claim.complete_by:
            return replace(claim, complete_by=due), outbox.Incomplete(missing=facts.missing, complete_by=due)
    if isinstance(facts, outbox.Rejected | outbox.RejectedLate) and claim.status == "rejected":
        due = rules.return_request_by(sent_on, policy())
        if claim.return_request_by is None or due > claim.return_request_by:
            if isinstance(facts, outbox.Rejected):
                facts = outbox.Rejected(reason=facts.reason, return_request_by=due)
            return replace(claim, return_request_by=due), facts
    return claim, facts


def strike(claim: rules.Claim, item: rules.OutboxItem, now: datetime) -> rules.Claim:
    """Strike a sent e-mail from the outbox and record it on the timeline."""
    for _ in range(5):
        if item not in claim.outbox:
            return claim
        after = replace(claim, outbox=tuple(o for o in claim.outbox if o != item), version=claim.version + 1)
        entry = rules.TimelineEntry(now, claim.status, "email", item.kind)
        try:
            return store.save_change(claim, after, [entry], clock.local_date(now))
        except StaleClaim:
            claim = claim_or_404(claim.claim_number)
    raise StaleClaim(claim.claim_number)


def _label_url(claim: rules.Claim, now: datetime) -> str:
    """T6: the return form with the prepaid label as a PDF in S3, linked by a presigned GET."""
    campaign = store.get_campaign(claim.campaign_id)
    address = claim.participant.address
    suffix = f" {address.house_number_suffix}" if address.house_number_suffix else ""
    street = f"{address.street} {address.house_number}{suffix}"
    label = documents.ShippingLabel(
        claim_number=claim.claim_number,
        campaign_name=campaign.name if campaign else claim.campaign_id,
        sender_name=f"{claim.participant.first_name} {claim.participant.last_name}",
        sender_address_lines=(street, f"{rules.normalise_postcode(address.postcode)} {address.city}"),
        return_address_lines=tuple(settings().tradein_return_address),
        tracking_code=documents.tracking_code(claim.claim_number),
        issued_on=clock.local_date(now),
        ship_by=claim.device_by,
    )
    return files.put_label(claim.claim_number, documents.shipping_label_pdf(label))


# --- the steps every path shares -----------------------------------------------------------------


def confirm(claim: rules.Claim, now: datetime) -> rules.Claim:
    """T6: a checked, complete claim waits for the old laptop; the confirmation goes out at once."""
    moved = move(
        claim,
        "awaiting_device",
        now,
        email=outbox.Confirmation(ship_by=claim.device_by),
        participant=claim.participant,
    )
    return flush(moved, now)


def review(claim: rules.Claim, now: datetime) -> rules.Claim:
    """After the proof: complete → `awaiting_device` (T6); bank details missing → `incomplete`
    with an e-mail and 7 working days to complete (T7)."""
    missing = eligibility.missing_bank_details(claim.participant)
    if not missing:
        return confirm(claim, now)
    deadline = rules.complete_by(clock.local_date(now), policy())
    moved = move(
        claim,
        "incomplete",
        now,
        email=outbox.Incomplete(missing=tuple(missing), complete_by=deadline),
        complete_by=deadline,
    )
    return flush(moved, now)


def attach_proof(
    claim: rules.Claim, now: datetime, *, detail: str | None, claim_key: str | None, **proof: Any
) -> rules.Claim:
    """T6/T7: attach a checked proof and decide its review in one conditional write (one write
    of the claim, not one per step): the claim passes `under_review` (on its timeline) on to
    `awaiting_device` with the confirmation, or to `incomplete` with its e-mail and deadline."""
    rules.check_transition(claim.status, "under_review")
    attached = replace(claim, **proof)
    missing = eligibility.missing_bank_details(attached.participant)
    changes: dict[str, Any] = {}
    if missing:
        target: rules.Status = "incomplete"
        deadline = rules.complete_by(clock.local_date(now), policy())
        email: outbox.Facts = outbox.Incomplete(missing=tuple(missing), complete_by=deadline)
        changes["complete_by"] = deadline
    else:
        target = "awaiting_device"
        email = outbox.Confirmation(ship_by=claim.device_by)
    rules.check_transition("under_review", target)
    owed = (*claim.outbox, _outbox_item(claim, email, now))
    after = replace(attached, status=target, version=claim.version + 1, outbox=owed, **changes)
    entries = [
        rules.TimelineEntry(now, "under_review", "status", detail),
        rules.TimelineEntry(now, target, "status"),
    ]
    moved = store.save_change(claim, after, entries, clock.local_date(now), claim_key)
    logger.info("claim moved", extra={"claim_number": claim.claim_number, "from": claim.status, "to": target})
    return moved


def resume(claim: rules.Claim, now: datetime) -> rules.Claim:
    """Finish what an interrupted or concurrent run left: a review not decided, e-mails not sent
    (T6). A run that loses a race to another one re-reads the claim and carries on from there."""
    for _ in range(5):
        try:
            if claim.status == "under_review":
                return review(claim, now)
            return flush(claim, now)
        except StaleClaim:
            claim = claim_or_404(claim.claim_number)
    raise StaleClaim(claim.claim_number)


# --- payout batches (T11): their claims move together with the batch ----------------------------


def move_to_batch(
    chunk: list[rules.Claim], batch: dict[str, Any], execution: date, today: date, now: datetime
) -> list[rules.Claim] | None:
    """Create the batch and move its claims to `payout_scheduled`, each with its e-mail, in one
    transaction. Returns the moved claims, or None when a claim changed (or the batch exists)."""
    changes = []
    for claim in chunk:
        rules.check_transition(claim.status, "payout_scheduled")
        # A claim without a reward (0) or an IBAN is refused here, before the batch is written.
        facts = outbox.PayoutScheduled(
            amount_cents=claim.reward_cents or 0,
            execution_date=execution,
            iban_masked=mask_iban(claim.participant.iban or ""),
        )
        item = _outbox_item(claim, facts, now)
        after = replace(
            claim,
            status="payout_scheduled",
            version=claim.version + 1,
            payout_batch_id=batch["batch_id"],
            execution_date=execution,
            outbox=(*claim.outbox, item),
        )
        changes.append((claim, after, rules.TimelineEntry(now, "payout_scheduled", "status", batch["batch_id"])))
    if not payout_store.schedule_batch(batch, changes, today):
        return None
    return [replace(after, timeline=(*before.timeline, entry)) for before, after, entry in changes]


def back_from_batch(batch: dict[str, Any], reason: str, now: datetime) -> int:
    """T11: the bank refused a batch: it is `failed` and its claims go back to approved/revised
    (for the next batch) in one transaction. Returns how many claims went back."""
    batch_id = batch["batch_id"]
    today = clock.local_date(now)
    changes = []
    for number in batch["claims"]:
        claim = claim_or_404(number)
        if claim.status != "payout_scheduled" or claim.payout_batch_id != batch_id:
            raise Conflict(
                "ILLEGAL_TRANSITION",
                "A claim of this batch is no longer scheduled",
                {"claim_number": number, "from": claim.status},
            )
        target = claim.approved_status or "approved"
        rules.check_transition(claim.status, target)
        after = replace(
            claim,
            status=target,
            version=claim.version + 1,
            payout_batch_id=None,
            execution_date=None,
            payout_attempt=claim.payout_attempt + 1,
            success_notified_on=claim.success_notified_on or today,
        )
        changes.append((claim, after, rules.TimelineEntry(now, target, "status", f"PAYOUT_FAILED {batch_id}")))
    if not payout_store.set_batch_status(batch_id, "scheduled", "failed", reason, changes, today):
        raise StaleClaim(batch_id)
    return len(changes)
