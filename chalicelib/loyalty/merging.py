"""Merging two accounts (L13), the ledger's part: freeze the source, move its lots, receipts,
history and debt into the target, close the source (chalicelib.flows.merge moves the coupons)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from chalicelib import clock, db
from chalicelib.errors import Conflict, NotFound, Unprocessable
from chalicelib.loyalty import history_store, lot_store, member_store, receipt_store
from chalicelib.loyalty.accounts import (
    RETRIES,
    ledger_entry,
    require_active_member,
)
from chalicelib.loyalty.rules import (
    Lot,
)
from chalicelib.observability import logger


@dataclass(frozen=True)
class MergeResult:
    target_member_id: str
    source_member_id: str
    lots_moved: int
    receipts_moved: int
    history_copied: int
    coupons_moved: list[str]


def merge_ledger(target_id: str, source_id: str) -> tuple[MergeResult, bool]:
    """L13, the ledger's part: move the source account's lots, receipts and history into the
    target (chalicelib.flows.merge moves the coupons, then `close_merge` closes the source).
    Answers the merge so far and whether it was already closed (then it is the final result).

    The source is first marked `merging` (its balances can no longer be spent); each lot then moves
    in its own transaction (delete + put + both balances + a history entry), so a crash leaves
    every lot on exactly one side, and calling merge again resumes where it stopped.
    """
    if target_id == source_id:
        raise Unprocessable("MERGE_SAME_ACCOUNT", "An account cannot be merged into itself")
    target = require_active_member(target_id)
    source = member_store.get_member(source_id)
    if source is None:
        raise NotFound("MEMBER_NOT_FOUND", "No member with the source id")
    if source.merged_into not in (None, target.member_id):
        raise Conflict("ALREADY_MERGED", "The source account was merged into another account")
    if source.status == "merged":
        done = member_store.merge_result_of(source_id)
        if done is not None:  # a retry of a completed merge answers what the merge did
            return MergeResult(**done), True
    if source.status == "active" and not member_store.mark_merging(source_id, target_id):
        raise Conflict("CONCURRENT_UPDATE", "The source account changed meanwhile; try again")
    moved = sum(_move_lot(lot, target_id) for lot in lot_store.lots_of(source_id))
    receipts_moved = sum(
        receipt_store.move_receipt(rid, source_id, target_id) for rid in receipt_store.all_receipt_ids_of(source_id)
    )
    copied = 0
    for entry, lots in history_store.all_history_of(source_id):
        copy = replace(entry, member_id=target_id, entry_id=f"{entry.entry_id}@{source_id}")
        copied += history_store.put_history_copy(copy, lots)
    _move_debt(source_id, target_id)
    return MergeResult(target_id, source_id, moved, receipts_moved, copied, []), False


def close_merge(result: MergeResult) -> MergeResult:
    """L13: close the merged source account (410 ACCOUNT_MERGED from then on), recording what the
    merge did; a concurrent run that closed it first answers its own result."""
    source_id, target_id = result.source_member_id, result.target_member_id
    moved, receipts_moved = result.lots_moved, result.receipts_moved
    if not member_store.close_merged(source_id, asdict(result)):
        done = member_store.merge_result_of(source_id)
        if done is not None:
            return MergeResult(**done)  # a concurrent run of this merge closed it first
        if member_store.get_member(source_id).status != "merged":  # type: ignore[union-attr]
            raise Conflict("MERGE_INCOMPLETE", "Something changed on the source account; run the merge again")
    logger.info(
        "accounts merged",
        extra={"source": source_id, "target": target_id, "lots": moved, "receipts": receipts_moved},
    )
    return result


def _move_lot(lot: Lot, target_id: str) -> int:
    """One lot from the merging source to the target, atomically with both balances."""
    current: Lot | None = lot
    for _ in range(RETRIES):
        if current is None:
            return 0
        pending = current.remaining if current.status == "pending" else 0
        available = current.remaining if current.status == "available" else 0
        try:
            with db.transaction() as tx:
                lot_store.add_lot_delete(tx, current)
                lot_store.add_lot_put(tx, replace(current, member_id=target_id))
                member_store.add_balance_change(
                    tx, current.member_id, pending=-pending, available=-available, statuses=("merging",)
                )
                member_store.add_balance_change(tx, target_id, pending=pending, available=available)
                if pending + available:  # a spent, expired or reversed lot moves without a 0-point entry
                    cause = f"merge:{current.member_id}"
                    entry_id = f"merged#{current.member_id}#{current.lot_id}"
                    history_store.add_entry(
                        tx, ledger_entry(target_id, entry_id, clock.now(), "adjusted", pending + available, cause)
                    )
        except db.TransactionCancelled:
            current = lot_store.get_lot(lot.member_id, lot.lot_id)
            continue
        return 1
    raise Conflict("CONCURRENT_UPDATE", "A lot changed during the merge; run the merge again")


def _move_debt(source_id: str, target_id: str) -> None:
    source = member_store.get_member(source_id)
    if source is None or source.balance.debt == 0:
        return
    debt = source.balance.debt
    with db.transaction() as tx:
        member_store.add_balance_change(tx, source_id, debt=-debt, expect_debt=debt, statuses=("merging",))
        member_store.add_balance_change(tx, target_id, debt=debt)
        entry_id = f"merged#{source_id}#debt"
        history_store.add_entry(
            tx, ledger_entry(target_id, entry_id, clock.now(), "adjusted", 0, f"merge:{source_id}:debt:{debt}")
        )
