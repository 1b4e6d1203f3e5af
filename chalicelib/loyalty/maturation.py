"""The nightly ledger work (L6, L7, L11): pending points mature (paying a debt first), points
past their last valid day expire, page by page of the sharded date-keyed work lists."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from pynamodb.transactions import TransactWrite

from chalicelib import clock, db
from chalicelib.loyalty import history_store, lot_store, member_store, rules
from chalicelib.loyalty.accounts import (
    RETRIES,
    ledger_entry,
    lot_cause,
)
from chalicelib.loyalty.rules import Lot
from chalicelib.observability import logger


@dataclass
class NightlyCounts:
    lots_matured: int = 0
    points_matured: int = 0
    lots_expired: int = 0
    points_expired: int = 0
    debt_settled: int = 0
    skipped: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)


# DynamoDB's limit of actions in one TransactWriteItems: a nightly batch fills it.
MAX_ACTIONS = 100


def mature_page(shard: int, today: date, cursor: Any, limit: int, counts: NightlyCounts) -> Any:
    """L6/L11 for one page of one shard's due lots; the cursor of the rest (None when done).

    Issue 12: the page's lots move in batches (several members per transaction, each member's
    lots with one balance update expecting no debt, as nearly every member has), without a read;
    a batch that fails moves its lots one at a time (`mature_lot`, which reads when it must).
    """
    lots, next_cursor = lot_store.due_to_mature_page(shard, today, limit, cursor)
    due = [lot for lot in lots if lot.status == "pending" and rules.is_due_to_mature(lot.matures_on, today)]
    counts.skipped += len(lots) - len(due)
    for batch in _batches(due, actions_per_lot=2):
        _move_batch(batch, _add_maturing, mature_lot, today, counts)
    return next_cursor


def expire_page(shard: int, today: date, cursor: Any, limit: int, counts: NightlyCounts) -> Any:
    """L7 for one page of one shard's lots past their last valid day; the cursor of the rest.
    In batches like `mature_page`, falling back to `expire_lot` one lot at a time."""
    lots, next_cursor = lot_store.due_to_expire_page(shard, today, limit, cursor)
    due = [lot for lot in lots if lot.status == "available" and rules.is_due_to_expire(lot.expires_on, today)]
    counts.skipped += len(lots) - len(due)
    for batch in _batches(due, actions_per_lot=2):
        _move_batch(batch, _add_expiring, expire_lot, today, counts)
    return next_cursor


def _batches(lots: list[Lot], actions_per_lot: int) -> list[list[list[Lot]]]:
    """The lots grouped per member (one balance action each) and the groups packed into
    transactions of at most MAX_ACTIONS actions, never one member twice in a transaction."""
    per_member: dict[str, list[Lot]] = {}
    for lot in lots:
        per_member.setdefault(lot.member_id, []).append(lot)
    most = (MAX_ACTIONS - 1) // actions_per_lot
    groups = [group[i : i + most] for group in per_member.values() for i in range(0, len(group), most)]
    batches: list[list[list[Lot]]] = []
    size = MAX_ACTIONS + 1
    for group in groups:
        cost = actions_per_lot * len(group) + 1
        if size + cost > MAX_ACTIONS or any(g[0].member_id == group[0].member_id for g in batches[-1]):
            batches.append([])
            size = 0
        batches[-1].append(group)
        size += cost
    return batches


def _move_batch(
    batch: list[list[Lot]],
    add: Callable[[TransactWrite, list[Lot]], None],
    one: Callable[[Lot, date, NightlyCounts], None],
    today: date,
    counts: NightlyCounts,
) -> None:
    """One transaction for the batch; if it fails (a member with a debt, a lot changed meanwhile,
    a conflicting writer, anything), every lot of it on its own, so one bad lot never blocks the
    others (it is reported and retried next run)."""
    lots = [lot for group in batch for lot in group]
    if len(lots) > 1:
        try:
            with db.transaction() as tx:
                for group in batch:
                    add(tx, group)
        except Exception as exc:
            logger.info(
                "nightly batch moved one lot at a time", extra={"lots": len(lots), "reason": type(exc).__name__}
            )
        else:
            points = sum(lot.remaining for lot in lots)
            if add is _add_maturing:
                counts.lots_matured += len(lots)
                counts.points_matured += points
            else:
                counts.lots_expired += len(lots)
                counts.points_expired += points
            return
    for lot in lots:
        _one_lot(one, lot, today, counts)


def _add_maturing(tx: TransactWrite, group: list[Lot]) -> None:
    """L6: one member's due pending lots become available; the member is expected debt-free."""
    at = clock.now()
    for lot in group:
        lot_store.add_lot_change(tx, lot, replace(lot, status="available"))
        entry = ledger_entry(lot.member_id, f"matured#{lot.lot_id}", at, "matured", lot.remaining, lot_cause(lot))
        history_store.add_entry(tx, entry)
    points = sum(lot.remaining for lot in group)
    member_store.add_balance_change(
        tx, group[0].member_id, pending=-points, available=points, expect_debt=0, statuses=("active", "merging")
    )


def _add_expiring(tx: TransactWrite, group: list[Lot]) -> None:
    """L7: the points left in one member's lots past their last valid day expire."""
    at = clock.now()
    for lot in group:
        lot_store.add_lot_change(tx, lot, replace(lot, status="expired", remaining=0))
        if lot.remaining:
            entry = ledger_entry(lot.member_id, f"expired#{lot.lot_id}", at, "expired", -lot.remaining, lot_cause(lot))
            history_store.add_entry(tx, entry)
    points = sum(lot.remaining for lot in group)
    member_store.add_balance_change(tx, group[0].member_id, available=-points, statuses=("active", "merging"))


def _one_lot(move: Callable[[Lot, date, NightlyCounts], None], lot: Lot, today: date, counts: NightlyCounts) -> None:
    """A nightly run never stops for one bad lot (API "Jobs"): it is reported and retried next run."""
    try:
        move(lot, today, counts)
    except Exception as exc:
        counts.failures.append({"id": f"lot:{lot.member_id}#{lot.lot_id}", "reason": type(exc).__name__})


def mature_lot(lot: Lot, today: date, counts: NightlyCounts) -> None:
    """L6: pending -> available; L11: the matured points first pay the member's debt.

    The first attempt expects what nearly every member has, no debt, in its condition instead of
    reading the member; only when a condition fails are the lot and the member read.
    """
    current: Lot | None = lot
    debt = 0
    for _ in range(RETRIES):
        if current is None or current.status != "pending" or not rules.is_due_to_mature(current.matures_on, today):
            counts.skipped += 1
            return
        settled, left = rules.settle_debt(debt, current.remaining)
        after = replace(current, status="available", remaining=left)
        at = clock.now()
        try:
            with db.transaction() as tx:
                lot_store.add_lot_change(tx, current, after)
                member_store.add_balance_change(
                    tx,
                    current.member_id,
                    pending=-current.remaining,
                    available=left,
                    debt=-settled,
                    expect_debt=debt,
                    statuses=("active", "merging"),
                )
                cause = lot_cause(current)
                entry = ledger_entry(
                    current.member_id, f"matured#{current.lot_id}", at, "matured", current.remaining, cause
                )
                history_store.add_entry(tx, entry)
                if settled:
                    debt_entry = ledger_entry(
                        current.member_id, f"settled#{current.lot_id}", at, "adjusted", -settled, "debt_settlement"
                    )
                    history_store.add_entry(tx, debt_entry)
        except db.TransactionCancelled:
            current = lot_store.get_lot(lot.member_id, lot.lot_id)  # GSI reads lag: the base item decides
            if current is None or current.status != "pending":
                continue
            member = member_store.get_member(lot.member_id)
            if member is None:
                counts.skipped += 1
                return
            debt = member.balance.debt
            continue
        counts.lots_matured += 1
        counts.points_matured += current.remaining
        counts.debt_settled += settled
        return
    counts.skipped += 1
    counts.failures.append({"id": f"lot:{lot.member_id}#{lot.lot_id}", "reason": "CONDITION_FAILED"})


def expire_lot(lot: Lot, today: date, counts: NightlyCounts) -> None:
    """L7: the points left in a lot past its last valid day expire."""
    current: Lot | None = lot
    for _ in range(RETRIES):
        if current is None or current.status != "available" or not rules.is_due_to_expire(current.expires_on, today):
            counts.skipped += 1
            return
        after = replace(current, status="expired", remaining=0)
        try:
            with db.transaction() as tx:
                lot_store.add_lot_change(tx, current, after)
                member_store.add_balance_change(
                    tx, current.member_id, available=-current.remaining, statuses=("active", "merging")
                )
                if current.remaining:
                    entry = ledger_entry(
                        current.member_id,
                        f"expired#{current.lot_id}",
                        clock.now(),
                        "expired",
                        -current.remaining,
                        lot_cause(current),
                    )
                    history_store.add_entry(tx, entry)
        except db.TransactionCancelled:
            current = lot_store.get_lot(lot.member_id, lot.lot_id)
            continue
        counts.lots_expired += 1
        counts.points_expired += current.remaining
        return
    counts.skipped += 1
    counts.failures.append({"id": f"lot:{lot.member_id}#{lot.lot_id}", "reason": "CONDITION_FAILED"})
