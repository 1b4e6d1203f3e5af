"""Payouts (T11): approved and revised claims into SEPA batches, paid on their execution date,
batches settled once all their claims are paid, and a batch the bank refused sent back."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from chalicelib.config import settings
from chalicelib.errors import Conflict, NotFound
from chalicelib.observability import logger
from chalicelib.tradein import files, lifecycle, outbox, payout_store, rules, sepa, store, views
from chalicelib.tradein.isolation import ItemFailures
from chalicelib.tradein.masking import mask_iban
from chalicelib.tradein.store import StaleClaim


def _debtor() -> sepa.Debtor:
    cfg = settings()
    return sepa.organiser_account(cfg.organiser_iban, cfg.organiser_bic, cfg.organiser_name)


def schedule_payouts(today: date, now: datetime, failures: ItemFailures) -> list[str]:
    """T11: put approved and revised claims into a SEPA batch paid on the next working day, within
    30 days of the success e-mail; the claims move to `payout_scheduled` with an e-mail.
    A batch that fails is recorded in `failures`; its claims stay due for the next run."""
    due: list[rules.Claim] = []
    for status in ("approved", "revised"):
        for number in list(store.due_claim_numbers(status, today)):
            with failures.item("schedule_payouts", number):
                claim = lifecycle.current(number, status)
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
    latest = min(rules.payout_latest_date(c.success_notified_on or today, lifecycle.policy()) for c in chunk)
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
    batch = {
        "batch_id": batch_id,
        "execution_date": execution.isoformat(),
        "created_on": today.isoformat(),
        "claims": [c.claim_number for c in chunk],
        "total_cents": sum(p.amount_cents for p in payments),
        "file_key": files.put_payout_file(batch_id, xml),
    }
    moved = lifecycle.move_to_batch(chunk, batch, execution, today, now)
    if moved is None:
        logger.warning("payout batch not scheduled: a claim changed", extra={"batch_id": batch_id})
        return None
    logger.info("payout batch scheduled", extra={"batch_id": batch_id, "claims": len(chunk)})
    for claim in moved:
        with failures.item("schedule_payouts", claim.claim_number):
            lifecycle.flush(claim, now)
    return batch_id


def _chunks(items: list[rules.Claim], size: int) -> Iterable[list[rules.Claim]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _batch_id(today: date, claims: list[rules.Claim]) -> str:
    """Deterministic per day and content (with each claim's attempt), so a rerun cannot double a batch."""
    content = ",".join(f"{c.claim_number}:{c.payout_attempt}" for c in claims)
    return f"P{today:%Y%m%d}-{hashlib.sha256(content.encode()).hexdigest()[:8].upper()}"


def mark_paid(today: date, now: datetime, failures: ItemFailures) -> int:
    """T11: claims whose batch's execution date has come are `paid` (unless the batch failed).
    Each batch is read once per run, not once per claim."""
    paid = 0
    batches: dict[str, dict[str, Any] | None] = {}
    for number in list(store.due_claim_numbers("payout_scheduled", today)):
        with failures.item("mark_paid", number):
            claim = lifecycle.current(number, "payout_scheduled")
            if claim is None or claim.payout_batch_id is None:
                continue
            if claim.payout_batch_id not in batches:
                batches[claim.payout_batch_id] = payout_store.get_batch(claim.payout_batch_id)
            batch = batches[claim.payout_batch_id]
            if batch is None or batch["status"] == "failed":
                continue
            try:
                moved = lifecycle.move(
                    claim,
                    "paid",
                    now,
                    # A claim without a reward (0) is refused here, before it is written.
                    email=outbox.Paid(
                        amount_cents=claim.reward_cents or 0, iban_masked=mask_iban(claim.participant.iban or "")
                    ),
                )
            except StaleClaim:
                continue
            paid += 1
            lifecycle.flush(moved, now)
    return paid


def list_payouts(limit: int, cursor: dict[str, Any] | None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    start = views.start_key(cursor, {"scope": payout_store.BATCH_SCOPE, "batch_id": None})
    batches, last = payout_store.list_batches(limit, start)
    return [views.batch_json(b) for b in batches], last


@lifecycle.answers
def batch_failed(batch_id: str, reason: str, now: datetime) -> dict[str, Any]:
    """T11: the bank refused a batch: its claims go back to approved/revised and into the next batch."""
    batch = payout_store.get_batch(batch_id)
    if batch is None:
        raise NotFound("BATCH_NOT_FOUND", "No payout batch with this id")
    if batch["status"] == "failed" and batch["reason"] == reason:
        return views.batch_json(batch)  # a retry of the same call answers the same (API.md "Back office")
    if batch["status"] != "scheduled":
        raise Conflict("BATCH_NOT_SCHEDULED", f"A {batch['status']} batch cannot fail", {"status": batch["status"]})
    claims = lifecycle.back_from_batch(batch, reason, now)
    logger.info("payout batch failed", extra={"batch_id": batch_id, "claims": claims})
    return views.batch_json({**batch, "status": "failed", "reason": reason})


def settle_batches(today: date, failures: ItemFailures) -> int:
    """Mark scheduled batches whose execution date has come, once all their claims are paid.
    Reads only the scheduled batches that are due (`payout_store.due_batches`), however old."""
    settled = 0
    for batch in list(payout_store.due_batches(today)):
        with failures.item("settle_batches", batch["batch_id"]):
            if batch["status"] != "scheduled":
                continue
            claims = [store.get_claim(n) for n in batch["claims"]]
            all_paid = all(c is not None and c.status == "paid" for c in claims)
            if all_paid and payout_store.set_batch_status(batch["batch_id"], "scheduled", "paid", None, [], today):
                settled += 1
    return settled
