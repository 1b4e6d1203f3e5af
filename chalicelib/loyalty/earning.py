"""Receipts and the points they earn (L1-L6): record a receipt from the till, register an
anonymous one to a member, list a member's receipts; trade-in reads receipts through flows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from pynamodb.transactions import TransactWrite

from chalicelib import clock, db
from chalicelib.errors import Conflict, NotFound, Unprocessable
from chalicelib.ids import fingerprint
from chalicelib.loyalty import history_store, lot_store, member_store, receipt_store, rules
from chalicelib.loyalty.accounts import (
    ledger_entry,
    policy,
    receipt_lot,
    require_active_member,
)
from chalicelib.loyalty.rules import (
    LoyaltyPolicy,
    Member,
    StoredReceipt,
)
from chalicelib.observability import logger
from chalicelib.sales import Receipt


@dataclass(frozen=True)
class ReceiptResult:
    receipt_id: str
    member_id: str | None
    points: int
    matures_on: date


def get_receipt(receipt_id: str) -> Receipt | None:
    """A receipt with its cumulative `returned` quantities (trade-in reads the laptop purchase)."""
    found = receipt_store.get_receipt(receipt_id)
    return found[0].receipt if found else None


def _result(stored: StoredReceipt) -> ReceiptResult:
    r = stored.receipt
    return ReceiptResult(
        receipt_id=r.receipt_id, member_id=r.member_id, points=stored.points, matures_on=stored.matures_on
    )


def _named_member(member_id: str | None, card_number: str | None) -> str | None:
    """L4: the member id a receipt carries, given or found by the scanned card."""
    if card_number is not None:
        member_id = member_store.member_by_card(card_number)
        if member_id is None:
            raise Unprocessable("MEMBER_NOT_FOUND", "No member has this card number")
    return member_id


def _resolve_member(member_id: str | None, member: Member | None) -> str | None:
    """L4: the account the points go to (`member` is `member_id` as read), following a merge."""
    if member_id is None:
        return None
    for _ in range(5):
        if member is None:
            raise Unprocessable("MEMBER_NOT_FOUND", "The receipt names an unknown member")
        if member.merged_into is None:
            return member_id
        member_id = member.merged_into
        member = member_store.get_member(member_id)
    raise Conflict("MEMBER_CHANGED", "The member's account is being merged; try again")


def record_receipt(receipt: Receipt, card_number: str | None, payload: Mapping[str, Any]) -> tuple[ReceiptResult, bool]:
    """L1-L4, L6: store a receipt and, when it carries a member, its pending points.

    Returns (result, created). An identical replay answers the stored result; another payload for
    the same id is 409 RECEIPT_CONFLICT. Receipts without a member are kept for L5.
    """
    pol, fp = policy(), fingerprint(payload)
    named = _named_member(receipt.member_id, card_number)
    # One read for a replay, one read and one transaction for a new receipt (issue 12).
    existing, member = receipt_store.get_receipt_and_member(receipt.receipt_id, named)
    if existing is not None:
        return _replay(existing[0], fp), False
    member_id = _resolve_member(named, member)
    receipt = replace(receipt, member_id=member_id, returned={})
    points = rules.receipt_points(receipt, pol) if member_id else 0
    purchase_date = clock.local_date(receipt.purchased_at)
    stored = StoredReceipt(
        receipt=receipt, points=points, matures_on=rules.matures_on(purchase_date, pol), fingerprint=fp
    )
    try:
        with db.transaction() as tx:
            receipt_store.add_receipt_put(tx, stored)
            if member_id and points > 0:
                _add_earning(tx, stored, member_id, pol)
    except db.TransactionCancelled:
        again = receipt_store.get_receipt(receipt.receipt_id)
        if again is not None:
            return _replay(again[0], fp), False
        raise Conflict("MEMBER_CHANGED", "The member's account changed meanwhile; try again") from None
    logger.info("receipt recorded", extra={"receipt_id": receipt.receipt_id, "points": points})
    return _result(stored), True


def _replay(stored: StoredReceipt, fp: str) -> ReceiptResult:
    if stored.fingerprint != fp:
        raise Conflict("RECEIPT_CONFLICT", "A different receipt with this id was already recorded")
    return _result(stored)


def _add_earning(tx: TransactWrite, stored: StoredReceipt, member_id: str, pol: LoyaltyPolicy) -> None:
    lot = receipt_lot(stored, member_id, pol)
    lot_store.add_lot_put(tx, lot)
    member_store.add_balance_change(tx, member_id, pending=lot.points)
    cause = f"receipt:{stored.receipt.receipt_id}"
    history_store.add_entry(
        tx, ledger_entry(member_id, f"earned#{lot.lot_id}", clock.now(), "earned", lot.points, cause)
    )


def register_receipt(member_id: str, receipt_id: str) -> tuple[ReceiptResult, bool]:
    """L5: attach a receipt reported without a member to this member, once.

    Its points are pending until purchase_date + 30 (L6); a receipt registered after that date
    matures in the first nightly run (the lot's matures_on is already due).
    """
    require_active_member(member_id)
    pol = policy()
    found = receipt_store.get_receipt(receipt_id)
    if found is None:
        raise NotFound("RECEIPT_NOT_FOUND", "No receipt with this id")
    stored, _version = found
    if stored.receipt.member_id == member_id:
        return _result(stored), False
    if stored.receipt.member_id is not None:
        raise Conflict("RECEIPT_ALREADY_REGISTERED", "This receipt is already registered to an account")
    if not rules.registrable(stored.receipt):
        raise Unprocessable("RECEIPT_NOT_ELIGIBLE", "Receipts of external sellers or the Outlet earn no points")
    receipt = replace(stored.receipt, member_id=member_id)
    stored = replace(stored, receipt=receipt, points=rules.receipt_points(receipt, pol))
    try:
        with db.transaction() as tx:
            receipt_store.add_receipt_attach(tx, receipt_id, member_id, stored.points)
            if stored.points > 0:
                _add_earning(tx, stored, member_id, pol)
    except db.TransactionCancelled:
        again = receipt_store.get_receipt(receipt_id)
        if again is not None and again[0].receipt.member_id == member_id:
            return _result(again[0]), False
        raise Conflict("RECEIPT_ALREADY_REGISTERED", "This receipt is already registered to an account") from None
    logger.info("receipt registered", extra={"receipt_id": receipt_id, "member_id": member_id})
    return _result(stored), True


def receipts(member_id: str, limit: int, cursor: dict[str, Any] | None) -> tuple[list[StoredReceipt], Any]:
    """The member's receipts with their points and matures_on, newest first."""
    require_active_member(member_id)
    return receipt_store.receipts_of(member_id, limit, cursor)
