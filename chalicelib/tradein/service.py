"""Use cases of the trade-in domain (T1-T15). Routes, the S3 handler and the nightly job call these.

Every status change goes through `_move`, which checks the one state machine (`rules.TRANSITIONS`),
writes a timeline entry and, in the same conditional update, the e-mail the change owes the
participant (the claim's outbox). E-mails are sent after the write and struck from the outbox
with a timeline entry; the nightly run sends whatever an interrupted run left owed (T6).
"""

from __future__ import annotations

import hashlib
import random
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import filetype
from botocore.exceptions import ClientError

from chalicelib import clock, mail
from chalicelib.config import settings
from chalicelib.db import client
from chalicelib.errors import BadRequest, Conflict, NotFound, Unprocessable
from chalicelib.events import ReceiptReturned
from chalicelib.ids import random_code
from chalicelib.observability import logger
from chalicelib.sales import Receipt
from chalicelib.tradein import documents, emails, rules, sepa, store
from chalicelib.tradein.isolation import ItemFailures
from chalicelib.tradein.masking import mask_iban, mask_participant
from chalicelib.tradein.store import StaleClaim

PROOF_PREFIX = "proofs/"
DATE_FACTS = frozenset(
    {"upload_by", "ship_by", "complete_by", "return_request_by", "received_on", "deadline", "execution_date"}
)
FLAG_DUPLICATE_PROOF = "DUPLICATE_PROOF"
FLAG_IP_VELOCITY = "IP_VELOCITY"


def policy() -> rules.ClaimPolicy:
    """The claim policy as configured now (G5)."""
    cfg = settings()
    return rules.ClaimPolicy(
        employee_email_domains=tuple(cfg.employee_email_domains),
        incomplete_working_days=cfg.tradein_incomplete_working_days,
        return_request_working_days=cfg.tradein_return_request_working_days,
        payout_within_days=cfg.tradein_payout_within_days,
        ip_velocity_per_day=cfg.tradein_ip_velocity_per_day,
    )


# --- registration (T1-T5, T13) -------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    campaign_id: str
    receipt_id: str
    laptop_line_id: str
    participant: rules.Participant
    old_device: rules.OldDevice
    declarations: rules.Declarations
    proof_content_type: str = "application/pdf"


def _refuse(refusal: rules.Refusal | None) -> None:
    if refusal is not None:
        raise Unprocessable(refusal.code, refusal.message, refusal.details)


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
        participant = replace(participant, iban=rules.normalise_iban(participant.iban))
    _refuse(rules.check_purchase(receipt, registration.laptop_line_id, campaign))
    _refuse(rules.check_registration_window(purchase_date, today, campaign))
    _refuse(rules.check_participant(participant, today, policy()))
    _refuse(rules.check_declarations(registration.declarations))
    _refuse(rules.check_device(registration.old_device, today, campaign))

    _, last_day = rules.registration_window(purchase_date, campaign)
    keys = [
        rules.address_key(campaign.campaign_id, participant.address),
        rules.purchase_key(receipt.receipt_id, registration.laptop_line_id),
    ]
    for _ in range(5):
        number = random_code(settings().tradein_claim_number_length)
        # T14: the participant's look-up key, written with the claim (see `_claim_or_404`).
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
        except Conflict:
            replayed = _replayed(registration, participant, keys[1], now)
            if replayed is None:
                raise
            return replayed, False
    else:
        raise Conflict("CLAIM_NUMBER_EXHAUSTED", "Could not allocate a claim number; try again")
    logger.info("claim registered", extra={"claim_number": claim.claim_number, "campaign_id": campaign.campaign_id})
    _watch_ip(claim, today, now)
    return _registered(claim, registration.proof_content_type, now), True


def _registered(claim: rules.Claim, content_type: str, now: datetime) -> dict[str, Any]:
    upload = presigned_upload(claim.claim_number, content_type, now) if claim.status == "awaiting_proof" else None
    return {"claim_number": claim.claim_number, "status": claim.status, "upload": upload}


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
    if store.count_ip(f"ip#{today.isoformat()}#{digest}") > policy().ip_velocity_per_day:
        _flag(claim, FLAG_IP_VELOCITY, now)


def _flag(claim: rules.Claim, flag: str, now: datetime) -> rules.Claim:
    for _ in range(3):
        if flag in claim.flags:
            return claim
        after = replace(claim, flags=(*claim.flags, flag), version=claim.version + 1)
        try:
            return store.save_change(claim, after, [rules.TimelineEntry(now, claim.status, "flag", flag)], now.date())
        except StaleClaim:
            claim = _claim_or_404(claim.claim_number)
    return claim


def upload_key(claim_number: str, upload_id: str) -> str:
    """The one key an upload may write: `proofs/{claim}/{upload_id}`."""
    return f"{PROOF_PREFIX}{claim_number}/{upload_id}"


def checked_key(claim_number: str, upload_id: str) -> str:
    """Where a proof lives once checked: a key no upload policy names, so it cannot be overwritten."""
    return f"{PROOF_PREFIX}{claim_number}/checked/{upload_id}"


def presigned_upload(claim_number: str, content_type: str, now: datetime) -> dict[str, Any]:
    """A presigned S3 POST for the proof: exactly one new key per upload (`eq $key`, a fresh
    random upload id), the declared type (PDF, JPEG or PNG), at most the configured size, valid
    15 minutes. S3 enforces the policy; `on_proof_uploaded` checks size and real type again."""
    cfg = settings()
    key = upload_key(claim_number, secrets.token_hex(12))
    post = client("s3").generate_presigned_post(
        Bucket=cfg.proofs_bucket,
        Key=key,
        Fields={"Content-Type": content_type},
        # boto3 adds `{"key": key}` (an exact match, `eq $key`) for a key without `${filename}`.
        Conditions=[
            {"Content-Type": content_type},
            ["content-length-range", 1, cfg.proof_max_bytes],
        ],
        ExpiresIn=cfg.proof_upload_seconds,
    )
    return {
        "url": post["url"],
        "fields": post["fields"],
        "expires_at": clock.iso(now + timedelta(seconds=cfg.proof_upload_seconds)),
        "max_bytes": cfg.proof_max_bytes,
        "content_type": content_type,
    }


# --- participant: tracking, upload, completion, return request (T7, T10, T14) ------------------


def _claim_or_404(claim_number: str, postcode: str | None = None) -> rules.Claim:
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


def tracking_json(claim: rules.Claim) -> dict[str, Any]:
    """What anyone with the number and postcode may see: no personal data (T14, T15)."""
    return {
        "claim_number": claim.claim_number,
        "campaign_id": claim.campaign_id,
        "status": claim.status,
        "timeline": _public_timeline(claim),
        "reward_cents": claim.reward_cents,
        "deadlines": rules.deadlines(claim),
        "next_step": rules.next_step(claim, clock.today()),
    }


def _public_timeline(claim: rules.Claim) -> list[dict[str, Any]]:
    """Status changes and refused proofs with their reason (API.md): what the participant may see."""
    shown: list[dict[str, Any]] = []
    for entry in claim.timeline:
        if entry.event == "status":
            shown.append({"at": clock.iso(entry.at), "status": entry.status})
        elif entry.event == "proof_refused":
            shown.append({"at": clock.iso(entry.at), "event": "proof_refused", "reason": entry.detail})
    return shown


def track_claim(claim_number: str, postcode: str) -> dict[str, Any]:
    """T14: a claim's status by claim number and postcode."""
    return tracking_json(_claim_or_404(claim_number, postcode))


def fresh_upload(claim_number: str, postcode: str, content_type: str, now: datetime) -> dict[str, Any]:
    """A new presigned upload while the claim still waits for its proof (T2)."""
    claim = _claim_or_404(claim_number, postcode)
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
    return {"claim_number": claim.claim_number, "upload": presigned_upload(claim.claim_number, content_type, now)}


def complete_claim(
    claim_number: str, postcode: str, iban: str | None, account_holder: str | None, now: datetime
) -> dict[str, Any]:
    """T7: an `incomplete` claim gets its missing bank details within 7 working days and moves on
    to `awaiting_device` with the confirmation e-mail (T6)."""
    claim = _claim_or_404(claim_number, postcode)
    today = clock.local_date(now)
    if claim.status != "incomplete" and _completed_with(claim, iban, account_holder):
        return tracking_json(claim)  # a retried completion answers the same
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
        iban=rules.normalise_iban(iban) if iban is not None else claim.participant.iban,
        account_holder=account_holder.strip() if account_holder is not None else claim.participant.account_holder,
    )
    _refuse(rules.check_participant(participant, today, policy()))
    missing = rules.missing_bank_details(participant)
    if missing:
        raise Unprocessable("DATA_STILL_MISSING", "Some required data is still missing", {"missing": missing})
    claim = _confirm(replace(claim, participant=participant), now)
    return tracking_json(claim)


def _completed_with(claim: rules.Claim, iban: str | None, account_holder: str | None) -> bool:
    """Whether the claim was completed (T7) with exactly these bank details."""
    was_incomplete = any(e.event == "status" and e.status == "incomplete" for e in claim.timeline)
    return (
        was_incomplete
        and claim.status not in {"under_review", "lapsed"}
        and iban is not None
        and account_holder is not None
        and rules.normalise_iban(iban) == claim.participant.iban
        and account_holder.strip() == claim.participant.account_holder
    )


def request_return(claim_number: str, postcode: str, now: datetime) -> dict[str, Any]:
    """T10: after a rejection the participant may ask for the old laptop back within 14 working
    days (200); a retry of that request answers the same (200); anything else is 422, also after
    the nightly run lapsed the claim for a request that never came."""
    claim = _claim_or_404(claim_number, postcode)
    if claim.status == "return_requested":
        return tracking_json(claim)
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
    claim = _move(claim, "return_requested", now, email=("return_requested", {}))
    return tracking_json(_flush(claim, now))


# --- the state machine in action -----------------------------------------------------------------


def _move(
    claim: rules.Claim,
    target: str,
    now: datetime,
    *,
    detail: str | None = None,
    email: tuple[str, dict[str, Any]] | None = None,
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
    outbox = claim.outbox
    if email is not None:
        kind, facts = email
        item = rules.OutboxItem(f"{kind}-{claim.version + 1}", kind, {k: _fact_json(v) for k, v in facts.items()})
        outbox = (*outbox, item)
    after = replace(claim, status=target, version=claim.version + 1, outbox=outbox, **changes)
    entry = rules.TimelineEntry(now, target, "status", detail)
    moved = store.save_change(claim, after, [entry], clock.local_date(now), claim_key)
    logger.info("claim moved", extra={"claim_number": claim.claim_number, "from": claim.status, "to": target})
    return moved


def _fact_json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _fact(name: str, value: Any) -> Any:
    return date.fromisoformat(value) if name in DATE_FACTS and isinstance(value, str) else value


def _flush(claim: rules.Claim, now: datetime) -> rules.Claim:
    """Send the e-mails a claim owes (see `_flush_counting`)."""
    return _flush_counting(claim, now)[0]


def _flush_counting(claim: rules.Claim, now: datetime) -> tuple[rules.Claim, int]:
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
        facts = {name: _fact(name, value) for name, value in item.facts.items()}
        claim, facts = _deadline_from_sending(claim, item.kind, facts, sent_on or clock.local_date(now))
        if state == "claimed":
            try:
                _send(claim, item.kind, facts, now)
            except Exception:
                store.release_email(key, token)
                raise
            _mark_sent(key)
            sent += 1
        claim = _strike(claim, item, now)
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


def _send(claim: rules.Claim, kind: str, facts: dict[str, Any], now: datetime) -> None:
    if kind == "confirmation":
        facts = {**facts, "label_url": _label_url(claim, now)}
    email = emails.compose(
        kind,  # type: ignore[arg-type]
        to=claim.participant.email,
        claim_number=claim.claim_number,
        first_name=claim.participant.first_name,
        tracking_url=emails.tracking_url(settings().public_web_url, claim.claim_number),
        **facts,
    )
    mail.send(email, reference=claim.claim_number)


def _deadline_from_sending(
    claim: rules.Claim, kind: str, facts: dict[str, Any], sent_on: date
) -> tuple[rules.Claim, dict[str, Any]]:
    """T7/T10 count working days from the day the e-mail went out (API.md): an e-mail that goes
    out later than planned (sent by the nightly run after a failure) moves its deadline with it.
    The new deadline is saved with the e-mail's strike."""
    if kind == "incomplete" and claim.status == "incomplete":
        due = rules.complete_by(sent_on, policy())
        if claim.complete_by is None or due > claim.complete_by:
            return replace(claim, complete_by=due), {**facts, "complete_by": due}
    if kind in {"rejected", "rejected_late"} and claim.status == "rejected":
        due = rules.return_request_by(sent_on, policy())
        if claim.return_request_by is None or due > claim.return_request_by:
            moved = {**facts, "return_request_by": due} if "return_request_by" in facts else facts
            return replace(claim, return_request_by=due), moved
    return claim, facts


def _strike(claim: rules.Claim, item: rules.OutboxItem, now: datetime) -> rules.Claim:
    """Strike a sent e-mail from the outbox and record it on the timeline."""
    for _ in range(5):
        if item not in claim.outbox:
            return claim
        after = replace(claim, outbox=tuple(o for o in claim.outbox if o != item), version=claim.version + 1)
        entry = rules.TimelineEntry(now, claim.status, "email", item.kind)
        try:
            return store.save_change(claim, after, [entry], clock.local_date(now))
        except StaleClaim:
            claim = _claim_or_404(claim.claim_number)
    raise StaleClaim(claim.claim_number)


def label_key(claim_number: str) -> str:
    return f"labels/{claim_number}.pdf"


def _label_url(claim: rules.Claim, now: datetime) -> str:
    """T6: the return form with the prepaid label as a PDF in S3, linked by a presigned GET."""
    cfg = settings()
    campaign = store.get_campaign(claim.campaign_id)
    address = claim.participant.address
    suffix = f" {address.house_number_suffix}" if address.house_number_suffix else ""
    street = f"{address.street} {address.house_number}{suffix}"
    label = documents.ShippingLabel(
        claim_number=claim.claim_number,
        campaign_name=campaign.name if campaign else claim.campaign_id,
        sender_name=f"{claim.participant.first_name} {claim.participant.last_name}",
        sender_address_lines=(street, f"{rules.normalise_postcode(address.postcode)} {address.city}"),
        return_address_lines=tuple(cfg.tradein_return_address),
        tracking_code=documents.tracking_code(claim.claim_number),
        issued_on=clock.local_date(now),
        ship_by=claim.device_by,
    )
    s3 = client("s3")
    key = label_key(claim.claim_number)
    s3.put_object(
        Bucket=cfg.proofs_bucket, Key=key, Body=documents.shipping_label_pdf(label), ContentType="application/pdf"
    )
    return str(
        s3.generate_presigned_url(
            "get_object", Params={"Bucket": cfg.proofs_bucket, "Key": key}, ExpiresIn=cfg.tradein_label_link_seconds
        )
    )


def _confirm(claim: rules.Claim, now: datetime) -> rules.Claim:
    """T6: a checked, complete claim waits for the old laptop; the confirmation goes out at once."""
    moved = _move(
        claim,
        "awaiting_device",
        now,
        email=("confirmation", {"ship_by": claim.device_by}),
        participant=claim.participant,
    )
    return _flush(moved, now)


def _review(claim: rules.Claim, now: datetime) -> rules.Claim:
    """After the proof: complete → `awaiting_device` (T6); bank details missing → `incomplete`
    with an e-mail and 7 working days to complete (T7)."""
    missing = rules.missing_bank_details(claim.participant)
    if not missing:
        return _confirm(claim, now)
    deadline = rules.complete_by(clock.local_date(now), policy())
    moved = _move(
        claim,
        "incomplete",
        now,
        email=("incomplete", {"missing": missing, "complete_by": deadline}),
        complete_by=deadline,
    )
    return _flush(moved, now)


# --- proof upload (T2, T6, T7, T13) --------------------------------------------------------------


def proof_uploaded(bucket: str, key: str, now: datetime) -> str:
    """Check and attach an uploaded proof, then move the claim on. Returns what happened.

    Every upload is its own object at its own key (`presigned_upload`), checked on its own:
    sniffed, sized, hashed and duplicate-checked (T13). A proof that checks out is copied to its
    checked key, which no upload can overwrite, and the upload is removed. Safe to run twice: the
    event of an upload already handled only resumes the claim where it stopped; another object
    put at a key already handled (a reused upload form) is removed and changes nothing.
    """
    parts = key.split("/")
    if len(parts) != 3 or parts[0] + "/" != PROOF_PREFIX or not parts[2] or bucket != settings().proofs_bucket:
        return "ignored"  # includes the checked copies, `proofs/{claim}/checked/{upload}`
    claim = store.get_claim(parts[1])
    if claim is None:
        logger.warning("proof for unknown claim", extra={"key_prefix": parts[1]})
        return "ignored"
    s3 = client("s3")
    head = _head(bucket, key)
    if claim.proof_upload_key == key:
        if head is None or head["ETag"] == claim.proof_etag:
            _resume(claim, now)
            return "replayed"
        logger.warning("upload key reused after its proof was checked", extra={"claim_number": claim.claim_number})
        s3.delete_object(Bucket=bucket, Key=key)
        return "ignored"
    if head is None:
        # A redelivered event for a proof already refused (and deleted), or attached by a run racing this one.
        logger.info("proof gone before it was checked", extra={"claim_number": claim.claim_number})
        return "ignored"
    if claim.status != "awaiting_proof":
        logger.info("proof ignored: claim not waiting", extra={"claim_number": claim.claim_number})
        return "ignored"
    max_bytes = settings().proof_max_bytes
    etag = str(head["ETag"])
    if int(head["ContentLength"]) > max_bytes:
        return _refuse_proof(claim, bucket, key, etag, rules.PROOF_TOO_LARGE, now)
    body = _read(bucket, key, etag)
    if body is None:
        return "ignored"  # replaced meanwhile: the new object's own event checks it
    kind = filetype.guess(body) if body else None
    refusal = rules.proof_refusal(len(body), kind.mime if kind else None, max_bytes)
    if refusal is not None or kind is None:
        return _refuse_proof(claim, bucket, key, etag, refusal or rules.PROOF_UNSUPPORTED_TYPE, now)
    today = clock.local_date(now)
    if rules.is_past(claim.registration_by, today):
        _flush(
            _move(
                claim,
                "lapsed",
                now,
                detail="PROOF_LATE",
                lapse_reason="PROOF_LATE",
                email=("lapsed", {"reason": "Het aankoopbewijs kwam na de registratietermijn binnen."}),
            ),
            now,
        )
        return "lapsed"
    digest = hashlib.sha256(body).hexdigest()
    stored = checked_key(claim.claim_number, parts[2])
    s3.put_object(Bucket=bucket, Key=stored, Body=body, ContentType=kind.mime)
    for _ in range(3):
        first = store.claim_number_for(f"proof#{digest}")
        duplicate = first is not None and first != claim.claim_number
        flags = (
            (*claim.flags, FLAG_DUPLICATE_PROOF)
            if duplicate and FLAG_DUPLICATE_PROOF not in claim.flags
            else claim.flags
        )
        try:
            attached = _move(
                claim,
                "under_review",
                now,
                detail=FLAG_DUPLICATE_PROOF if duplicate else None,
                claim_key=None if first else f"proof#{digest}",
                proof_key=stored,
                proof_upload_key=key,
                proof_etag=etag,
                proof_sha256=digest,
                proof_content_type=kind.mime,
                flags=flags,
            )
            break
        except StaleClaim:
            claim = _claim_or_404(claim.claim_number)
            if claim.proof_upload_key == key:
                _resume(claim, now)
                return "replayed"
            if claim.status != "awaiting_proof":
                return "ignored"
    else:
        raise Conflict("CLAIM_CHANGED", "The claim kept changing while its proof was attached")
    if duplicate:
        logger.warning("duplicate proof", extra={"claim_number": claim.claim_number, "first_claim": first})
    s3.delete_object(Bucket=bucket, Key=key)  # the checked copy is the proof now
    _resume(attached, now)
    return "attached"


def _missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}


def _head(bucket: str, key: str) -> dict[str, Any] | None:
    try:
        return dict(client("s3").head_object(Bucket=bucket, Key=key))
    except ClientError as exc:
        if not _missing(exc):
            raise
        return None


def _read(bucket: str, key: str, etag: str) -> bytes | None:
    """The object's bytes if it is still the one that was looked at (`IfMatch`), else None."""
    try:
        return bytes(client("s3").get_object(Bucket=bucket, Key=key, IfMatch=etag)["Body"].read())
    except ClientError as exc:
        if not _missing(exc) and exc.response.get("Error", {}).get("Code") not in {"412", "PreconditionFailed"}:
            raise
        return None


def _refuse_proof(claim: rules.Claim, bucket: str, key: str, etag: str, reason: str, now: datetime) -> str:
    """A proof that does not check out is deleted; the claim keeps waiting for a good one, with a
    timeline entry the participant sees and, while the registration window is open, an e-mail to
    upload again (API.md "Trade-in"). Recorded once per uploaded object (key and ETag)."""
    client("s3").delete_object(Bucket=bucket, Key=key)
    marker = "refused#" + hashlib.sha256(f"{key}|{etag}".encode()).hexdigest()
    today = clock.local_date(now)
    for _ in range(3):
        if claim.status != "awaiting_proof" or store.claim_number_for(marker):
            return "refused"
        outbox = claim.outbox
        if not rules.is_past(claim.registration_by, today):
            facts = {"reason": reason, "upload_by": claim.registration_by.isoformat()}
            outbox = (*outbox, rules.OutboxItem(f"proof_refused-{claim.version + 1}", "proof_refused", facts))
        after = replace(claim, version=claim.version + 1, outbox=outbox)
        entry = rules.TimelineEntry(now, claim.status, "proof_refused", reason)
        try:
            saved = store.save_change(claim, after, [entry], today, claim_key=marker)
        except StaleClaim:
            claim = _claim_or_404(claim.claim_number)
            continue
        logger.info("proof refused", extra={"claim_number": claim.claim_number, "reason": reason})
        _flush(saved, now)
        return "refused"
    logger.info("proof refusal not recorded: claim kept changing", extra={"claim_number": claim.claim_number})
    return "refused"


def _resume(claim: rules.Claim, now: datetime) -> rules.Claim:
    """Finish what an interrupted or concurrent run left: a review not decided, e-mails not sent
    (T6). A run that loses a race to another one re-reads the claim and carries on from there."""
    for _ in range(5):
        try:
            if claim.status == "under_review":
                return _review(claim, now)
            return _flush(claim, now)
        except StaleClaim:
            claim = _claim_or_404(claim.claim_number)
    raise StaleClaim(claim.claim_number)


# --- back office (T8, T9, T13, T15) --------------------------------------------------------------


def backoffice_json(claim: rules.Claim) -> dict[str, Any]:
    """A claim for the back office: personal data masked (T15), flags shown (T13)."""
    return {
        **tracking_json(claim),
        "receipt_id": claim.receipt_id,
        "laptop_line_id": claim.laptop_line_id,
        "registered_at": clock.iso(claim.registered_at),
        "purchase_date": claim.purchase_date.isoformat(),
        "participant": mask_participant(store.participant_json(claim.participant)),
        "old_device": {
            "brand": claim.old_device.brand,
            "model": claim.old_device.model,
            "screen_inches": claim.old_device.screen_inches,
        },
        "flags": list(claim.flags),
        "proof": {"content_type": claim.proof_content_type, "sha256": claim.proof_sha256} if claim.proof_key else None,
        "reason": claim.reason,
        "payout_batch_id": claim.payout_batch_id,
    }


def _start_key(key: Any, fields: dict[str, str | None]) -> dict[str, Any] | None:
    """A page's start key from a client's cursor, exactly as DynamoDB handed it out (string keys,
    fixed values where given); anything else is a 400, never a failed query."""
    if key is None:
        return None
    valid = isinstance(key, dict) and set(key) == set(fields)
    for name, fixed in fields.items():
        value = key.get(name) if valid else None
        valid = (
            valid
            and isinstance(value, dict)
            and list(value) == ["S"]
            and isinstance(value["S"], str)
            and 0 < len(value["S"].encode()) <= 1024
            and fixed in (None, value["S"])
        )
    if not valid:
        raise BadRequest("INVALID_CURSOR", "cursor is not one this API handed out")
    return dict(key)


def device_received(claim_number: str, received_on: date, now: datetime) -> dict[str, Any]:
    """T8: the old laptop arrived. By day 60 → `device_received` with an e-mail; later → `rejected`
    (the call still succeeds), and the participant may ask for it back (T10)."""
    claim = _claim_or_404(claim_number)
    today = clock.local_date(now)
    if received_on > today:
        raise Unprocessable("RECEIVED_ON_IN_FUTURE", "received_on may not be after today")
    if claim.received_on == received_on and (
        claim.status == "device_received" or (claim.status == "rejected" and claim.reason == "LAPTOP_RECEIVED_LATE")
    ):
        # A retry answers the same (API.md "Back office") and sends what the first left owed.
        return backoffice_json(_flush(claim, now))
    if claim.status == "lapsed" and claim.lapse_reason != "DEVICE_NOT_RECEIVED":
        raise Conflict("ILLEGAL_TRANSITION", "This claim has lapsed", {"from": claim.status, "to": "rejected"})
    # A claim lapsed for a missing laptop is judged by the day the laptop arrived, not by the day
    # the arrival was recorded: received by day 60 but recorded after the nightly run is in time.
    if rules.is_late_arrival(received_on, claim.device_by):
        reason = "LAPTOP_RECEIVED_LATE"
        claim = _move(
            claim,
            "rejected",
            now,
            detail=reason,
            reason=reason,
            received_on=received_on,
            return_request_by=rules.return_request_by(today, policy()),
            email=("rejected_late", {"received_on": received_on, "deadline": claim.device_by}),
        )
    else:
        claim = _move(claim, "device_received", now, received_on=received_on, email=("device_received", {}))
    return backoffice_json(_flush(claim, now))


def inspect(
    claim_number: str, outcome: rules.Outcome, reward_cents: int | None, reason: str | None, now: datetime
) -> dict[str, Any]:
    """T9: approved (full reward), revised (a lower reward), or rejected with a reason; e-mailed."""
    claim = _claim_or_404(claim_number)
    text = (reason or "").strip() or None
    campaign = store.get_campaign(claim.campaign_id)
    same = campaign is not None and claim.status == outcome and claim.reason == text
    if same and campaign and rules.inspection_reward(outcome, reward_cents, campaign) == claim.reward_cents:
        # A retry answers the same (API.md "Back office") and sends what the first left owed.
        return backoffice_json(_flush(claim, now))
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
        deadline = rules.return_request_by(today, policy())
        claim = _move(
            claim,
            "rejected",
            now,
            detail=text,
            reason=text,
            reward_cents=0,
            return_request_by=deadline,
            email=("rejected", {"reason": text or "", "return_request_by": deadline}),
        )
    else:
        facts: dict[str, Any] = {"reward_cents": reward}
        if outcome == "revised":
            facts["reason"] = text or ""
        claim = _move(
            claim,
            outcome,
            now,
            detail=text,
            reason=text,
            reward_cents=reward,
            approved_status=outcome,
            success_notified_on=today,
            email=(outcome, facts),
        )
    return backoffice_json(_flush(claim, now))


def disqualify(claim_number: str, reason: str, now: datetime) -> dict[str, Any]:
    """T13: the organiser disqualifies a claim; the decision is final."""
    claim = _claim_or_404(claim_number)
    if claim.status == "disqualified" and claim.reason == reason:
        # A retry answers the same (API.md "Back office") and sends what the first left owed.
        return backoffice_json(_flush(claim, now))
    claim = _move(claim, "disqualified", now, detail=reason, reason=reason, email=("disqualified", {"reason": reason}))
    return backoffice_json(_flush(claim, now))


# --- T12: the new laptop returned ----------------------------------------------------------------


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
        number = store.claim_number_for(rules.purchase_key(event.receipt.receipt_id, line.line_id))
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
        moved = _move(claim, "void", now, detail="LAPTOP_RETURNED", void_return_id=return_id, email=("void", {}))
    except StaleClaim:
        return False
    _flush(moved, now)
    return True


# --- nightly (T6, T7, T8, T10, T11, T12) ---------------------------------------------------------


LAPSE_REASONS = {
    "awaiting_proof": ("PROOF_NOT_RECEIVED", "Er is binnen de registratietermijn geen aankoopbewijs ontvangen."),
    "incomplete": ("NOT_COMPLETED", "De ontbrekende gegevens zijn niet binnen 7 werkdagen aangevuld."),
    # The campaign's device deadline (T8), not a fixed day: filled in per claim (G5).
    "awaiting_device": ("DEVICE_NOT_RECEIVED", "De oude laptop is niet uiterlijk {device_by} ontvangen."),
    "rejected": ("RETURN_NOT_REQUESTED", "De oude laptop is niet binnen 14 werkdagen teruggevraagd."),
}


def _due_numbers(status: str, on_or_before: date) -> list[str]:
    return list(store.due_claim_numbers(status, on_or_before))


def _current(number: str, status: str) -> rules.Claim | None:
    """The claim as it is now, if still in `status` (the due index is eventually consistent)."""
    claim = store.get_claim(number)
    return claim if claim is not None and claim.status == status else None


def lapse_overdue(today: date, now: datetime, failures: ItemFailures) -> int:
    """T2/T7/T8/T10: lapse claims whose deadline (the last allowed day) is before `today`.
    Each claim on its own: one that fails is recorded in `failures` and retried next run."""
    lapsed = 0
    for status, (code, text) in LAPSE_REASONS.items():
        for number in _due_numbers(status, today - timedelta(days=1)):
            with failures.item("lapse_overdue", number):
                claim = _current(number, status)
                if claim is None or not rules.is_past(rules.due_on(claim, today), today):
                    continue
                reason = text.format(device_by=emails.dutch_date(claim.device_by))
                try:
                    moved = _move(
                        claim, "lapsed", now, detail=code, lapse_reason=code, email=("lapsed", {"reason": reason})
                    )
                except StaleClaim:
                    continue
                lapsed += 1
                _flush(moved, now)
    return lapsed


def finish_reviews(today: date, now: datetime, failures: ItemFailures) -> int:
    """T6: decide claims an interrupted upload left `under_review`, so the e-mail is not late."""
    done = 0
    for number in _due_numbers("under_review", today):
        with failures.item("finish_reviews", number):
            claim = _current(number, "under_review")
            if claim is None:
                continue
            _resume(claim, now)
            done += 1
    return done


def send_owed_emails(now: datetime, failures: ItemFailures) -> int:
    """T6-T13: send e-mails that an interrupted run owed; a claim whose e-mail fails (SES refuses
    it) keeps it owed for the next run and does not hold up the others."""
    sent = 0
    for number in list(store.outbox_claim_numbers()):
        with failures.item("send_owed_emails", number):
            claim = store.get_claim(number)
            if claim is None or not claim.outbox:
                continue
            sent += _flush_counting(claim, now)[1]
    return sent


def _debtor() -> sepa.Debtor:
    cfg = settings()
    return sepa.organiser_account(cfg.organiser_iban, cfg.organiser_bic, cfg.organiser_name)


def schedule_payouts(today: date, now: datetime, failures: ItemFailures) -> list[str]:
    """T11: put approved and revised claims into a SEPA batch paid on the next working day, within
    30 days of the success e-mail; the claims move to `payout_scheduled` with an e-mail.
    A batch that fails is recorded in `failures`; its claims stay due for the next run."""
    due: list[rules.Claim] = []
    for status in ("approved", "revised"):
        for number in _due_numbers(status, today):
            with failures.item("schedule_payouts", number):
                claim = _current(number, status)
                if claim is not None:
                    due.append(claim)
    batches: list[str] = []
    if not due:
        return batches
    try:
        debtor = _debtor()  # before any file: without the paying account, no batch is started
    except sepa.PayoutAccountMissing as exc:
        logger.error("payouts not started", extra={"reason": str(exc), "claims_due": len(due)})
        raise
    for chunk in _chunks(sorted(due, key=lambda c: c.claim_number), 90):
        with failures.item("schedule_payouts", _batch_id(today, chunk)):
            scheduled = _schedule_batch(chunk, debtor, today, now, failures)
            if scheduled:
                batches.append(scheduled)
    return batches


def _schedule_batch(
    chunk: list[rules.Claim], debtor: sepa.Debtor, today: date, now: datetime, failures: ItemFailures
) -> str | None:
    """One SEPA batch (T11): the pain.001 file, then the batch and its claims' moves in one transaction."""
    latest = min(rules.payout_latest_date(c.success_notified_on or today, policy()) for c in chunk)
    execution = rules.payout_execution_date(today, latest)
    batch_id = _batch_id(today, chunk)
    payments = [
        sepa.Payment(
            end_to_end_id=c.claim_number,
            name=c.participant.account_holder or f"{c.participant.first_name} {c.participant.last_name}",
            iban=c.participant.iban or "",
            amount_cents=int(c.reward_cents or 0),
            description=f"Inruilactie claim {c.claim_number}",
        )
        for c in chunk
    ]
    xml = sepa.pain001(batch_id, execution, debtor, payments, created_at=now.replace(tzinfo=None, microsecond=0))
    file_key = f"payouts/{batch_id}.xml"
    client("s3").put_object(Bucket=settings().proofs_bucket, Key=file_key, Body=xml, ContentType="application/xml")
    changes = []
    for c in chunk:
        item = rules.OutboxItem(
            f"payout_scheduled-{c.version + 1}",
            "payout_scheduled",
            {
                "amount_cents": c.reward_cents,
                "execution_date": execution.isoformat(),
                "iban_masked": mask_iban(c.participant.iban or ""),
            },
        )
        rules.check_transition(c.status, "payout_scheduled")
        after = replace(
            c,
            status="payout_scheduled",
            version=c.version + 1,
            payout_batch_id=batch_id,
            execution_date=execution,
            outbox=(*c.outbox, item),
        )
        changes.append((c, after, rules.TimelineEntry(now, "payout_scheduled", "status", batch_id)))
    batch = {
        "batch_id": batch_id,
        "execution_date": execution.isoformat(),
        "created_on": today.isoformat(),
        "claims": [c.claim_number for c in chunk],
        "total_cents": sum(p.amount_cents for p in payments),
        "file_key": file_key,
    }
    try:
        store.schedule_batch(batch, changes, today)
    except StaleClaim:
        logger.warning("payout batch not scheduled: a claim changed", extra={"batch_id": batch_id})
        return None
    logger.info("payout batch scheduled", extra={"batch_id": batch_id, "claims": len(chunk)})
    for before, after, entry in changes:
        with failures.item("schedule_payouts", before.claim_number):
            _flush(replace(after, timeline=(*before.timeline, entry)), now)
    return batch_id


def _chunks(items: list[rules.Claim], size: int) -> Iterable[list[rules.Claim]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _batch_id(today: date, claims: list[rules.Claim]) -> str:
    """Deterministic per day and content (with each claim's attempt), so a rerun cannot double a batch."""
    content = ",".join(f"{c.claim_number}:{c.payout_attempt}" for c in claims)
    return f"P{today:%Y%m%d}-{hashlib.sha256(content.encode()).hexdigest()[:8].upper()}"


def mark_paid(today: date, now: datetime, failures: ItemFailures) -> int:
    """T11: claims whose batch's execution date has come are `paid` (unless the batch failed)."""
    paid = 0
    for number in _due_numbers("payout_scheduled", today):
        with failures.item("mark_paid", number):
            claim = _current(number, "payout_scheduled")
            if claim is None or claim.payout_batch_id is None:
                continue
            batch = store.get_batch(claim.payout_batch_id)
            if batch is None or batch["status"] == "failed":
                continue
            try:
                moved = _move(
                    claim,
                    "paid",
                    now,
                    email=(
                        "paid",
                        {"amount_cents": claim.reward_cents, "iban_masked": mask_iban(claim.participant.iban or "")},
                    ),
                )
            except StaleClaim:
                continue
            paid += 1
            _flush(moved, now)
    return paid


# --- payout batches in the back office (T11) -----------------------------------------------------


def batch_json(batch: dict[str, Any]) -> dict[str, Any]:
    url = client("s3").generate_presigned_url(
        "get_object",
        Params={"Bucket": settings().proofs_bucket, "Key": batch["file_key"]},
        ExpiresIn=settings().tradein_file_link_seconds,
    )
    return {
        "batch_id": batch["batch_id"],
        "status": batch["status"],
        "execution_date": batch["execution_date"],
        "claims": batch["claims"],
        "total_cents": batch["total_cents"],
        "file_url": url,
        "reason": batch["reason"],
    }


def list_payouts(limit: int, cursor: dict[str, Any] | None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    start = _start_key(cursor, {"scope": store.BATCH_SCOPE, "batch_id": None})
    batches, last = store.list_batches(limit, start)
    return [batch_json(b) for b in batches], last


def batch_failed(batch_id: str, reason: str, now: datetime) -> dict[str, Any]:
    """T11: the bank refused a batch: its claims go back to approved/revised and into the next batch."""
    batch = store.get_batch(batch_id)
    if batch is None:
        raise NotFound("BATCH_NOT_FOUND", "No payout batch with this id")
    if batch["status"] == "failed" and batch["reason"] == reason:
        return batch_json(batch)  # a retry of the same call answers the same (API.md "Back office")
    if batch["status"] != "scheduled":
        raise Conflict("BATCH_NOT_SCHEDULED", f"A {batch['status']} batch cannot fail", {"status": batch["status"]})
    today = clock.local_date(now)
    changes = []
    for number in batch["claims"]:
        claim = _claim_or_404(number)
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
    store.set_batch_status(batch_id, "scheduled", "failed", reason, changes, today)
    logger.info("payout batch failed", extra={"batch_id": batch_id, "claims": len(changes)})
    return batch_json({**batch, "status": "failed", "reason": reason})


def settle_batches(today: date, failures: ItemFailures) -> int:
    """Mark scheduled batches whose execution date has come, once all their claims are paid."""
    settled = 0
    batches, _ = store.list_batches(100, None)
    for batch in batches:
        with failures.item("settle_batches", batch["batch_id"]):
            if batch["status"] != "scheduled" or date.fromisoformat(batch["execution_date"]) > today:
                continue
            claims = [store.get_claim(n) for n in batch["claims"]]
            if all(c is not None and c.status == "paid" for c in claims):
                try:
                    store.set_batch_status(batch["batch_id"], "scheduled", "paid", None, [], today)
                except StaleClaim:
                    continue
                settled += 1
    return settled
