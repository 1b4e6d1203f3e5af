"""Spending points (L10): plan which lots give how many points, then add the spend to the
caller's transaction (chalicelib.flows turns points into a coupon this way)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pynamodb.transactions import TransactWrite

from chalicelib import clock
from chalicelib.config import settings
from chalicelib.errors import BadRequest, Unprocessable
from chalicelib.loyalty import accounts, history_store, lot_store, member_store, rules
from chalicelib.loyalty.accounts import (
    ledger_entry,
    refuse_if_merged,
    require_active_member,
)
from chalicelib.loyalty.rules import (
    Lot,
    Member,
)


@dataclass(frozen=True)
class SpendPlan:
    """L10: which lots give how many points for one spend, planned from fresh reads."""

    member_id: str
    points: int
    ref: str
    takes: tuple[tuple[Lot, int], ...]


def plan_spend(member_id: str, points: int, today: date, ref: str, member: Member | None = None) -> SpendPlan:
    """L10: plan the spending of `points`, soonest-expiring lots first (no write yet).

    A spend that would touch more lots than `spend_max_lots` is refused with 422
    SPEND_TOO_FRAGMENTED rather than split over transactions (it could then half-succeed); the
    caller's own actions must fit in the remaining 100 - spend_max_lots - 2 of its transaction.
    `member` is the account as the caller just read it (the balance condition re-checks it).
    """
    if points <= 0:
        raise BadRequest("INVALID_POINTS", "points to spend must be positive")
    if member is None or member.member_id != member_id:
        member = require_active_member(member_id)
    refuse_if_merged(member)
    short = accounts.not_enough_points(member, points)
    if member.balance.available < points:
        raise short
    lots = {lot.lot_id: lot for lot in lot_store.open_lots_of(member_id)}
    plan = rules.plan_spend(list(lots.values()), points, today)
    if not plan:
        raise short
    if len(plan) > settings().spend_max_lots:
        raise Unprocessable(
            "SPEND_TOO_FRAGMENTED",
            "These points are spread over too many awards to spend in one go",
            {"lots": len(plan), "max_lots": settings().spend_max_lots},
        )
    return SpendPlan(member_id, points, ref, tuple((lots[lot_id], n) for lot_id, n in plan))


def add_spend(tx: TransactWrite, plan: SpendPlan) -> None:
    """L10: add a planned spend to the caller's transaction: one conditional update per lot
    (remaining >= n), one of the balance (available >= points) and a history entry
    `spent#{ref}` (does-not-exist), so the caller's write (a coupon) and the points commit
    together or not at all."""
    for lot, n in plan.takes:
        lot_store.add_lot_take(tx, lot, n)
    member_store.add_balance_change(tx, plan.member_id, available=-plan.points)
    entry = ledger_entry(plan.member_id, f"spent#{plan.ref}", clock.now(), "spent", -plan.points, plan.ref)
    history_store.add_entry(tx, entry, lots={lot.lot_id: n for lot, n in plan.takes})
