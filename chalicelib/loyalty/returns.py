"""Returns (L11): the ledger's part of a return (points reversed, matured points clawed back, a
shortfall as debt), recorded with the effects it owes other domains (C8, T12), which
chalicelib.flows does next and marks done here."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from pynamodb.transactions import TransactWrite

from chalicelib import clock, db, events
from chalicelib.config import settings
from chalicelib.errors import Conflict, NotFound, Unprocessable
from chalicelib.ids import fingerprint
from chalicelib.loyalty import history_store, lot_store, member_store, receipt_store, rules
from chalicelib.loyalty.accounts import (
    RETRIES,
    ledger_entry,
    policy,
    receipt_lot,
)
from chalicelib.loyalty.rules import (
    Lot,
    StoredReceipt,
    StoredReturn,
)
from chalicelib.observability import logger


@dataclass(frozen=True)
class ReturnResult:
    points_reversed: int
    coupons_restored: list[str]
    claims_voided: list[str]


def return_reads(receipt_id: str, return_id: str) -> list[tuple[Any, Any]]:
    """What a return reads first (the return, the receipt): keys for one BatchGetItem that
    chalicelib.flows shares with the other domains' reads of the return."""
    return receipt_store.return_reads(receipt_id, return_id)


def record_return_ledger(
    receipt_id: str,
    return_id: str,
    returned_at: datetime,
    lines: list[tuple[str, int]],
    payload: Mapping[str, Any],
    first_read: list[Any] | None = None,
    not_owed: frozenset[str] = frozenset(),
) -> tuple[StoredReturn, events.ReceiptReturned | None, bool]:
    """L11: reduce the receipt's points to what the kept lines earn; the return is recorded owing
    its effects on other domains (C8, T12) but those in `not_owed` (known to be no-ops), which
    chalicelib.flows.record_return does next. Idempotent per return_id: the return item (with
    the effects it owes), the receipt's returned quantities and the ledger change commit
    together. `first_read` answers `return_reads` (read by the caller); a retry reads again.
    Answers the stored return, the event when this call wrote it (None for a replay) and whether
    it was created now.

    Cost (issue 12): one BatchGetItem and one transaction; the receipt's lot is expected as the
    receipt implies, and the member's open lots are read only when that expectation fails.
    """
    fp = fingerprint({**payload, "receipt_id": receipt_id})
    for attempt in range(RETRIES):
        if attempt == 0 and first_read is not None:
            done, found = receipt_store.return_and_receipt(first_read)
        else:
            done, found = receipt_store.get_return_and_receipt(receipt_id, return_id)
        if done is not None:
            if done.fingerprint != fp:
                raise Conflict("RETURN_CONFLICT", "A different return with this id was already recorded")
            return done, None, False
        if found is None:
            raise NotFound("RECEIPT_NOT_FOUND", "No receipt with this id")
        stored, version = found
        problems = rules.return_excess(stored.receipt, lines)
        if problems:
            raise Unprocessable("RETURN_EXCEEDS_PURCHASE", "More would come back than was bought", {"lines": problems})
        returned = rules.returned_after(stored.receipt, lines)
        member_id = stored.receipt.member_id
        points_after = rules.receipt_points(stored.receipt, policy(), returned) if member_id else 0
        reversed_points = max(0, stored.points - points_after)
        record = StoredReturn(
            return_id=return_id,
            receipt_id=receipt_id,
            fingerprint=fp,
            returned_at=datetime.fromisoformat(clock.iso(returned_at)),
            points_reversed=reversed_points,
            owed=frozenset(events.RETURN_EFFECTS) - not_owed,
            results={},
        )
        try:
            with db.transaction() as tx:
                receipt_store.add_return_put(tx, record, clock.now())
                receipt_store.add_receipt_returned(tx, receipt_id, returned, points_after, version)
                if member_id and reversed_points:
                    _add_reversal(tx, stored, member_id, reversed_points, return_id, expect=attempt == 0)
        except db.TransactionCancelled:
            continue  # another return or a merge moved something: read again
        logger.info("return recorded", extra={"receipt_id": receipt_id, "return_id": return_id})
        event = events.ReceiptReturned(
            receipt=replace(stored.receipt, returned=returned), return_id=return_id, returned_at=record.returned_at
        )
        return record, event, True
    raise Conflict("CONCURRENT_UPDATE", "The receipt changed meanwhile; try again")


def _add_reversal(
    tx: TransactWrite, stored: StoredReceipt, member_id: str, amount: int, return_id: str, expect: bool
) -> None:
    """L11: pending points shrink; matured points are clawed back, a shortfall becoming debt.

    The first attempt expects the receipt's own lot as the receipt implies (issue 12: condition on
    the expected state, read only when it fails): before its maturity date pending with the
    receipt's points, after it available and untouched, so the clawback takes it all from there.
    Its conditions check exactly that; when they fail, the retry reads the member's open lots.
    """
    lot_id = f"receipt#{stored.receipt.receipt_id}"
    today = clock.today()
    own: Lot | None
    lots: list[Lot] = []
    if expect:
        own = receipt_lot(stored, member_id, policy())
        if rules.is_due_to_mature(stored.matures_on, today):
            own = replace(own, status="available")
    else:
        lots = lot_store.open_lots_of(member_id)
        own = next((lot for lot in lots if lot.lot_id == lot_id), None)
    cause = f"return:{return_id}"
    entry = ledger_entry(member_id, f"reversed#{return_id}", clock.now(), "reversed", -amount, cause)
    if own is not None and own.status == "pending":
        left = own.remaining - amount
        after = replace(own, points=own.points - amount, remaining=left, status="pending" if left else "reversed")
        lot_store.add_lot_change(tx, own, after)
        member_store.add_balance_change(tx, member_id, pending=-amount, statuses=("active",))
        history_store.add_entry(tx, entry, lots={lot_id: amount})
        return
    # (decision) After maturation: own lot first, then soonest-expiring lots, the rest as debt.
    plan = rules.plan_clawback(amount, own, lots, today, settings().spend_max_lots)
    by_id = {lot.lot_id: lot for lot in [*lots, *([own] if own else [])]}
    for take_id, n in plan.takes:
        lot_store.add_lot_take(tx, by_id[take_id], n, exact=expect)
    taken = sum(n for _, n in plan.takes)
    member_store.add_balance_change(tx, member_id, available=-taken, debt=plan.debt)
    history_store.add_entry(tx, entry, lots=dict(plan.takes))


def answer(ret: StoredReturn) -> ReturnResult:
    """What the till hears about a return: the points reversed and what its effects did."""
    return ReturnResult(
        points_reversed=ret.points_reversed,
        coupons_restored=list(ret.results.get(events.COUPON_RESTORE, ())),
        claims_voided=list(ret.results.get(events.CLAIM_VOID, ())),
    )


def get_return(return_id: str) -> StoredReturn | None:
    return receipt_store.get_return(return_id)


def returned_event(ret: StoredReturn) -> events.ReceiptReturned:
    """The event of a recorded return, from the receipt as stored now."""
    found = receipt_store.get_receipt(ret.receipt_id)
    if found is None:
        raise NotFound("RECEIPT_NOT_FOUND", "The returned receipt is gone")
    return events.ReceiptReturned(receipt=found[0].receipt, return_id=ret.return_id, returned_at=ret.returned_at)


def mark_return_effects_done(ret: StoredReturn, done: Mapping[str, list[str]]) -> StoredReturn | None:
    """Mark effects of a return done in one conditional write: the return as it is now, or None
    when a concurrent completer changed it first (read it again)."""
    if not receipt_store.mark_return_effects_done(ret.return_id, ret.owed, done):
        return None
    return replace(ret, owed=ret.owed - set(done), results={**ret.results, **{k: tuple(v) for k, v in done.items()}})


def returns_owing(now: datetime) -> Iterator[str]:
    """The ids of returns recorded until `now` that may still owe effects, from the sparse
    `owed_effects` index of every shard (never a scan; the index lags, so read each again)."""
    for shard in range(settings().maturity_shards):
        yield from receipt_store.returns_owing(shard, now)
