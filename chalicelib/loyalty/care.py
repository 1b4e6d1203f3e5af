"""Customer care in the back office: find members (L13's look-up before a merge) and adjust
their points by hand (L7, L10, L12), each adjustment one replay-safe ledger transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pynamodb.transactions import TransactWrite

from chalicelib import clock, db
from chalicelib.config import settings
from chalicelib.errors import BadRequest, Conflict, Unprocessable
from chalicelib.ids import fingerprint
from chalicelib.loyalty import accounts, history_store, lot_store, member_store, rules
from chalicelib.observability import logger


def find_members(email: str | None, card_number: str | None) -> list[accounts.Profile]:
    """Active members with this e-mail address (exact, case-insensitive) or loyalty card, by key."""
    if (email is None) == (card_number is None):
        raise BadRequest("INVALID_QUERY", "give exactly one of email or card_number")
    if email is not None:
        ids = member_store.members_by_email(email)
    else:
        found = member_store.member_by_card(card_number or "")
        ids = [found] if found else []
    profiles: list[accounts.Profile] = []
    for member_id in sorted(set(ids)):
        member = member_store.get_member(member_id)
        if member is not None and member.status == "active":  # merged accounts are closed (L13)
            profiles.append(accounts.profile(member_id))
    return profiles


@dataclass(frozen=True)
class Adjustment:
    adjustment_id: str
    member_id: str
    points: int
    reason: str
    at: datetime


def adjust_points(member_id: str, adjustment_id: str, points: int, reason: str) -> tuple[Adjustment, bool]:
    """Add (event points, available at once, valid 1 year: L7) or take (available points,
    soonest-expiring first: L10) points by hand; history type `adjusted`, cause
    `adjustment:{adjustment_id}` (L12), the reason kept with the entry.

    Returns (adjustment, created). The entry id `adjusted#{adjustment_id}` is written on a
    does-not-exist condition in the same transaction as the lots and the balance, so a replay
    never counts twice: the same body answers the stored adjustment, another one is 409.
    """
    if points == 0:
        raise BadRequest("INVALID_POINTS", "points must not be 0")
    fp = fingerprint({"points": points, "reason": reason})
    entry_id = f"adjusted#{adjustment_id}"
    for _ in range(accounts.RETRIES):
        done = history_store.get_entry(member_id, entry_id)
        if done is not None:
            return _replay(member_id, adjustment_id, done, fp), False
        member = accounts.require_active_member(member_id)
        at = clock.now()
        entry = rules.LedgerEntry(
            member_id=member_id,
            entry_id=entry_id,
            at=at,
            type="adjusted",
            points=points,
            cause=f"adjustment:{adjustment_id}",
        )
        try:
            with db.transaction() as tx:
                if points > 0:
                    _add_award(tx, member, adjustment_id, points)
                    history_store.add_entry(tx, entry, reason=reason, fingerprint=fp)
                else:
                    lots = _take(tx, member, -points)
                    history_store.add_entry(tx, entry, lots=lots, reason=reason, fingerprint=fp)
        except db.TransactionCancelled:
            continue  # a replay got there first, or the balance moved meanwhile: read again
        logger.info("points adjusted", extra={"member_id": member_id, "adjustment_id": adjustment_id, "points": points})
        return Adjustment(adjustment_id, member_id, points, reason, at), True
    raise Conflict("CONCURRENT_UPDATE", "The account changed meanwhile; try again")


def _replay(
    member_id: str, adjustment_id: str, done: tuple[rules.LedgerEntry, str | None, str | None], fp: str
) -> Adjustment:
    entry, reason, stored_fp = done
    if stored_fp != fp:
        raise Conflict("ADJUSTMENT_CONFLICT", "A different adjustment with this id was already recorded")
    return Adjustment(adjustment_id, member_id, entry.points, reason or "", entry.at)


def _add_award(tx: TransactWrite, member: rules.Member, adjustment_id: str, points: int) -> None:
    """L7: an event lot, available at once and valid 1 year; L11: it pays a debt first."""
    pol, today = accounts.policy(), clock.today()
    settled, _left = rules.settle_debt(member.balance.debt, points)
    lot = rules.Lot(
        member_id=member.member_id,
        lot_id=f"adjustment#{adjustment_id}",
        source="adjustment",
        kind="event",
        points=points,
        remaining=points - settled,
        earned_on=today,
        matures_on=today,
        expires_on=rules.event_expires_on(today, pol),
        status="available",
    )
    lot_store.add_lot_put(tx, lot)
    member_store.add_balance_change(
        tx, member.member_id, available=lot.remaining, debt=-settled, expect_debt=member.balance.debt
    )
    if settled:
        at = clock.now()
        settle = rules.LedgerEntry(
            member.member_id, f"settled#{lot.lot_id}", at, "adjusted", -settled, "debt_settlement"
        )
        history_store.add_entry(tx, settle)


def _take(tx: TransactWrite, member: rules.Member, points: int) -> dict[str, int]:
    """L10: take available points, soonest-expiring lots first; 422 beyond them."""
    short = accounts.not_enough_points(member, points)
    if member.balance.available < points:
        raise short
    lots = {lot.lot_id: lot for lot in lot_store.open_lots_of(member.member_id)}
    plan = rules.plan_spend(list(lots.values()), points, clock.today())
    if not plan:
        raise short
    if len(plan) > settings().spend_max_lots:
        raise Unprocessable(
            "SPEND_TOO_FRAGMENTED",
            "These points are spread over too many awards to take in one go",
            {"lots": len(plan), "max_lots": settings().spend_max_lots},
        )
    for lot_id, n in plan:
        lot_store.add_lot_take(tx, lots[lot_id], n)
    member_store.add_balance_change(tx, member.member_id, available=-points)
    return dict(plan)
