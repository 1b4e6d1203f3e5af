"""Every flow that spans domains, in this one module above them (see docs/architecture.md).

Domains never import each other's services: a use case touching two domains lives here and
calls each domain's public service functions in turn, passing plain data between them
(chalicelib.events holds the shared event types). Routes and jobs call these where a flow spans
domains.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from chalicelib import clock, db, events
from chalicelib.coupons import service as coupons
from chalicelib.coupons.rules import Coupon, Status
from chalicelib.errors import Conflict, Unprocessable
from chalicelib.loyalty import accounts, earning, merging, returns, spending
from chalicelib.loyalty.rules import Member, StoredReturn
from chalicelib.observability import logger
from chalicelib.tradein import inspection as tradein_inspection
from chalicelib.tradein import registration as tradein_registration

# A transaction cancelled by a concurrent writer is planned again from fresh reads this often.
MAX_ATTEMPTS = 3


# --- the member's account as other domains see it (L13) --------------------------------------


def refuse_merged(member_id: str) -> Member | None:
    """L13: 410 ACCOUNT_MERGED for a merged account; the account (None when unknown)."""
    return accounts.refuse_merged(member_id)


def list_coupons(
    member_id: str, limit: int, start_key: dict[str, Any] | None
) -> tuple[list[tuple[Coupon, Status]], dict[str, Any] | None]:
    """A page of an active member's own coupons with their status today (C2, C3, L13)."""
    accounts.require_active_member(member_id)
    return coupons.list_coupons(member_id, limit, start_key)


# --- points for a coupon (C1, C2, L10) --------------------------------------------------------


def convert_points(
    member_id: str, amount_cents: int, idempotency_key: str, member: Member | None = None
) -> coupons.Issued:
    """Turn points into a coupon of a configured tier (C1, C2, L10), once per Idempotency-Key.

    Loyalty plans the spend (its lots, soonest-expiring first), then one transaction holds that
    spend and the coupon with its request record, so there is never a coupon without its points
    gone, or the reverse. `member` is the account as the caller just read it. A new conversion
    is three requests (the member, its open lots, one transaction): a replay is caught by the
    request record's condition in that transaction, and only then is the record read.
    """
    member = member if member is not None and member.member_id == member_id else None
    member = member or accounts.require_active_member(member_id)
    conversion = coupons.plan_conversion(member_id, amount_cents, idempotency_key)
    for attempt in range(MAX_ATTEMPTS):
        replay = coupons.replayed_conversion(conversion) if attempt else None
        if replay is not None:
            return coupons.Issued(replay, created=False)
        now = clock.now()
        coupon = coupons.new_coupon(conversion, now.date())
        try:
            spend = spending.plan_spend(member_id, coupon.points, now.date(), f"coupon:{coupon.code}", member)
            with db.transaction() as tx:
                spending.add_spend(tx, spend)
                coupons.add_issue(tx, conversion, coupon, now)
        except db.TransactionCancelled:
            member = accounts.require_active_member(member_id)  # a replay, or a concurrent change
            continue
        except Unprocessable:
            # A concurrent retry with this key may have spent the points first: answer it as a replay.
            replay = coupons.replayed_conversion(conversion)
            if replay is None:
                raise
            return coupons.Issued(replay, created=False)
        logger.info("coupon issued", extra={"amount_cents": coupon.amount_cents, "points": coupon.points})
        return coupons.Issued(coupon, created=True)
    raise Conflict("CONCURRENT_UPDATE", "The points changed while converting; try again with the same key")


# --- returns (L11, C8, T12) -------------------------------------------------------------------


def return_effect(name: str, event: events.ReceiptReturned) -> list[str]:
    """Do one owed effect of a return; each is idempotent per return_id and answers the same on
    every call: the restored coupon codes (C8) or the voided claim numbers (T12)."""
    if name == events.COUPON_RESTORE:
        return coupons.restore_for_return(event)
    if name == events.CLAIM_VOID:
        return tradein_inspection.void_for_return(event)
    raise ValueError(f"unknown return effect {name!r}")


def record_return(
    receipt_id: str, return_id: str, returned_at: datetime, lines: list[tuple[str, int]], payload: dict[str, Any]
) -> tuple[returns.ReturnResult, bool]:
    """L11: reduce the receipt's points to what the kept lines earn, then restore coupons (C8) and
    void claims (T12). Idempotent per return_id: the return item (with the effects it owes), the
    receipt's returned quantities and the ledger change commit together; the effects are done
    next and marked done on the return item, so a replay, or the nightly catch-up when the till
    never resends, completes whatever a crash left owed, and answers the same.
    """
    # One BatchGetItem for the return, its receipt and the order's redemption (issue 12): an order
    # that redeemed no coupon owes no restore, so the common return is 4 requests (this read, the
    # ledger transaction, trade-in's claim look-up, marking its effect done).
    keys = [*returns.return_reads(receipt_id, return_id), coupons.redemption_read(receipt_id)]
    items = db.batch_get(keys)
    not_owed = frozenset({events.COUPON_RESTORE}) if coupons.nothing_to_restore(items[-1]) else frozenset()
    ret, event, created = returns.record_return_ledger(
        receipt_id, return_id, returned_at, lines, payload, first_read=items[:-1], not_owed=not_owed
    )
    return returns.answer(complete_effects(ret, event)), created


def complete_effects(ret: StoredReturn, event: events.ReceiptReturned | None = None) -> StoredReturn:
    """Do the effects a return still owes (C8, T12) and mark them done in one conditional write.

    Every effect is idempotent per return_id, so doing one again after a crash (or alongside a
    concurrent completer) repeats a no-op with the same answer. When one effect fails, the others
    are still recorded as done and the failure is raised: the till's retry or the nightly
    catch-up completes it. `event` is what the caller just wrote; else the receipt is read back.
    """
    for _ in range(MAX_ATTEMPTS):
        if not ret.owed:
            return ret
        if event is None:
            event = returns.returned_event(ret)
        done: dict[str, list[str]] = {}
        failure: Exception | None = None
        for name in sorted(ret.owed):
            try:
                done[name] = return_effect(name, event)
            except Exception as exc:
                failure = failure or exc
        if done:
            marked = returns.mark_return_effects_done(ret, done)
            if marked is None:
                again = returns.get_return(ret.return_id)  # a concurrent completer got there first
                assert again is not None
                ret = again
                continue
            ret = marked
        if failure is not None:
            raise failure
        return ret
    raise Conflict("CONCURRENT_UPDATE", "The return's effects changed meanwhile; try again")


def complete_owed_return_effects(now: datetime) -> dict[str, Any]:
    """C8, T12: complete the effects of returns recorded until `now` that still owe some (a return
    whose request died after its ledger transaction and was never resent).

    Reads only the sparse `owed_effects` index (never a scan) and each listed return's base item
    (the index lags); each return on its own: one that fails is listed in `failures` and stays
    owed for the next run. Safe to run twice: done effects have left the index.
    """
    completed = 0
    failures: list[dict[str, str]] = []
    for return_id in returns.returns_owing(now):
        try:
            ret = returns.get_return(return_id)
            if ret is None or not ret.owed:
                continue
            complete_effects(ret)
            completed += 1
        except Exception as exc:
            reason = getattr(exc, "code", None) or type(exc).__name__
            failures.append({"id": return_id, "reason": str(reason)})
            logger.warning("owed return effects failed", extra={"return_id": return_id, "reason": reason})
    return {"returns_completed": completed, "failures": failures}


# --- merging accounts (L13) -------------------------------------------------------------------


def merge(target_id: str, source_id: str) -> merging.MergeResult:
    """L13: move the source account's lots, receipts, history and coupons into the target, then
    close the source (410 ACCOUNT_MERGED from then on). Calling it again resumes where it stopped;
    a completed merge answers what it did."""
    progress, closed = merging.merge_ledger(target_id, source_id)
    if closed:
        return progress
    moved = coupons.transfer_coupons(source_id, target_id)
    return merging.close_merge(replace(progress, coupons_moved=list(moved)))


# --- trade-in registration reads the laptop's receipt (T1) ------------------------------------


def register_claim(
    registration: tradein_registration.Registration, client_ip: str, now: datetime
) -> tuple[dict[str, Any], bool]:
    """T1-T5 with the receipt of the laptop's purchase as loyalty holds it."""
    return tradein_registration.register_claim(
        registration, earning.get_receipt(registration.receipt_id), client_ip, now
    )
