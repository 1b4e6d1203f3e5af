"""Use cases of the loyalty ledger; routes, jobs and other domains call these.

Public for chalicelib.flows: `require_active_member`, `plan_spend` and `add_spend` (points for a
coupon), `get_receipt` (trade-in), the return and merge steps. Every ledger change is one
transaction holding the lot change, the balance change and a history entry whose id is
deterministic, so a retry can never count anything twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from typing import Any

from pynamodb.transactions import TransactWrite

from chalicelib import clock, events
from chalicelib.address import Address
from chalicelib.config import settings
from chalicelib.db import set_value
from chalicelib.errors import BadRequest, Conflict, Gone, NotFound, Unprocessable
from chalicelib.ids import fingerprint, random_code
from chalicelib.loyalty import rules, store
from chalicelib.loyalty.models import MemberModel
from chalicelib.loyalty.rules import (
    Balance,
    Expiring,
    LedgerEntry,
    Lot,
    LoyaltyPolicy,
    Member,
    StoredReceipt,
    StoredReturn,
)
from chalicelib.observability import logger
from chalicelib.sales import Receipt

RETRIES = 3
CARD_DIGITS = "0123456789"


def policy() -> LoyaltyPolicy:
    """The programme's tunable values, from settings at call time (G5)."""
    cfg = settings()
    return LoyaltyPolicy(
        cents_per_point=cfg.cents_per_point,
        return_period_days=cfg.return_period_days,
        base_validity_years=cfg.base_points_validity_years,
        event_validity_years=cfg.event_points_validity_years,
        welcome_points=cfg.welcome_points,
        consent_points=cfg.consent_points,
        expiring_window_days=cfg.expiring_window_days,
    )


def _now() -> datetime:
    return clock.now()


# --- members (L8, L9, L12, L13, L14) -------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    member: Member
    expiring: list[Expiring]


def require_active_member(member_id: str) -> Member:
    """The member, or 404 MEMBER_NOT_FOUND, or 410 ACCOUNT_MERGED once merged into another (L13)."""
    member = store.get_member(member_id)
    if member is None:
        raise NotFound("MEMBER_NOT_FOUND", "No member with this id")
    _refuse_if_merged(member)
    return member


def refuse_merged(member_id: str) -> Member | None:
    """L13: 410 ACCOUNT_MERGED for a merged (or merging) account; nothing for active or unknown ones.

    Every member route calls this first, so a merged account's token gets 410 whatever it sends.
    Returns the member as read, so that the route's use case need not read it again.
    """
    member = store.get_member(member_id)
    if member is not None:
        _refuse_if_merged(member)
    return member


def _refuse_if_merged(member: Member) -> None:
    if member.status != "active":
        raise Gone(
            "ACCOUNT_MERGED", "This account was merged into another account", {"merged_into": member.merged_into}
        )


def _event_lot(member_id: str, source: str, points: int, today: date, pol: LoyaltyPolicy, debt_paid: int = 0) -> Lot:
    return Lot(
        member_id=member_id,
        lot_id=f"{source}#{member_id}",
        source=source,
        kind="event",
        points=points,
        remaining=points - debt_paid,
        earned_on=today,
        matures_on=today,
        expires_on=rules.event_expires_on(today, pol),
        status="available",
    )


def join(
    member_id: str,
    email: str,
    first_name: str,
    last_name: str,
    address: Address | None,
    newsletter: bool,
    partner_data_sharing: bool,
) -> Profile:
    """Create a member with the welcome points (L8) and, when sharing is on, the consent points (L9).

    The member item and the lots are written in one transaction on does-not-exist conditions, so
    a retried sign-up answers 409 and never awards twice.
    """
    pol, today, at = policy(), clock.today(), _now()
    lots: list[Lot] = []
    if pol.welcome_points > 0:
        lots.append(_event_lot(member_id, "welcome", pol.welcome_points, today, pol))
    if partner_data_sharing and pol.consent_points > 0:
        lots.append(_event_lot(member_id, "marketing_consent", pol.consent_points, today, pol))
    member = Member(
        member_id=member_id,
        email=email,
        first_name=first_name,
        last_name=last_name,
        address=address,
        newsletter=newsletter,
        partner_data_sharing=partner_data_sharing,
        card_number=random_code(16, CARD_DIGITS),
        joined_on=today,
        balance=Balance(available=sum(lot.points for lot in lots)),
        consent_awarded=partner_data_sharing,
    )
    try:
        with store.transaction() as tx:
            for lot in lots:
                store.add_lot_put(tx, lot)
                store.add_entry(tx, _entry(member_id, f"earned#{lot.lot_id}", at, "earned", lot.points, lot.source))
            store.add_member_put(tx, member)  # after the lots: it carries their expiring summary (L12)
    except store.TransactWriteError:
        if store.get_member(member_id) is not None:
            raise Conflict("MEMBER_EXISTS", "This member already exists") from None
        raise
    logger.info("member joined", extra={"member_id": member_id, "lots": len(lots)})
    return Profile(member=member, expiring=rules.expiring(lots, today, pol))


def profile(member_id: str) -> Profile:
    """L12: the profile with pending and available points and what expires within 90 days.

    One GetItem: the member item carries its available points per expiry date (store.py keeps it
    in the transactions that change the lots), so the cost does not grow with the lot history.
    """
    found = store.get_member_and_expiring(member_id)
    if found is None:
        raise NotFound("MEMBER_NOT_FOUND", "No member with this id")
    member, per_day = found
    _refuse_if_merged(member)
    return Profile(member=member, expiring=rules.expiring_totals(per_day, clock.today(), policy()))


def update_profile(member_id: str, changes: Mapping[str, Any]) -> Profile:
    """L14: change name, address, newsletter and consent; L13: never the e-mail address.

    Turning data sharing on awards the consent points once per member ever (L9): the lot id is
    deterministic and the member's `consent_awarded` flag is set in the same transaction.
    """
    if "email" in changes:
        raise Unprocessable("EMAIL_IMMUTABLE", "The e-mail address cannot be changed; ask for an account migration")
    for _ in range(RETRIES):
        member = require_active_member(member_id)
        actions: list[Any] = []
        for name in ("first_name", "last_name", "newsletter", "partner_data_sharing"):
            if name in changes and changes[name] is not None:
                actions.append(set_value(getattr(MemberModel, name), changes[name]))
        if "address" in changes:
            actions.append(set_value(MemberModel.address, changes["address"]))  # None removes it
        award = bool(changes.get("partner_data_sharing")) and not member.consent_awarded
        if not actions:
            return profile(member_id)
        try:
            with store.transaction() as tx:
                if award:
                    _award_consent(tx, member, actions)
                else:
                    store.add_member_flags(tx, member_id, actions, condition=MemberModel.status == "active")
            return profile(member_id)
        except store.TransactWriteError:
            continue
    raise Conflict("CONCURRENT_UPDATE", "The account changed meanwhile; try again")


def _award_consent(tx: TransactWrite, member: Member, actions: list[Any]) -> None:
    """L9 (decision: 100 points, configurable), settling a debt first (L11)."""
    pol, today = policy(), clock.today()
    points = pol.consent_points
    settled, _left = rules.settle_debt(member.balance.debt, points)
    lot = _event_lot(member.member_id, "marketing_consent", points, today, pol, debt_paid=settled)
    store.add_lot_put(tx, lot)  # before the balance change, which carries its expiring summary (L12)
    store.add_balance_change(
        tx,
        member.member_id,
        available=lot.remaining,
        debt=-settled,
        expect_debt=member.balance.debt,
        extra=[*actions, MemberModel.consent_awarded.set(True)],
        extra_condition=MemberModel.consent_awarded == False,  # noqa: E712 (a DynamoDB condition)
    )
    at = _now()
    store.add_entry(tx, _entry(member.member_id, f"earned#{lot.lot_id}", at, "earned", points, "marketing_consent"))
    if settled:
        store.add_entry(
            tx, _entry(member.member_id, f"settled#{lot.lot_id}", at, "adjusted", -settled, "debt_settlement")
        )


def history(member_id: str, limit: int, cursor: dict[str, Any] | None) -> tuple[list[LedgerEntry], Any]:
    """L12: one page of the member's history, newest first."""
    require_active_member(member_id)
    return store.history_of(member_id, limit, cursor)


def _lot_cause(lot: Lot) -> str:
    """What a lot came from, as history shows it: `receipt:R-1`, `welcome`, `marketing_consent`."""
    return f"receipt:{lot.receipt_id}" if lot.receipt_id else lot.source


def _entry(member_id: str, entry_id: str, at: datetime, kind: str, points: int, cause: str) -> LedgerEntry:
    return LedgerEntry(member_id=member_id, entry_id=entry_id, at=at, type=kind, points=points, cause=cause)  # type: ignore[arg-type]


# --- spending (L10), called by the coupons domain -------------------------------------------


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
    _refuse_if_merged(member)
    short = Unprocessable(
        "INSUFFICIENT_POINTS",
        "Not enough available points",
        {"available": member.balance.available, "required": points},
    )
    if member.balance.available < points:
        raise short
    lots = {lot.lot_id: lot for lot in store.open_lots_of(member_id)}
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
        store.add_lot_take(tx, lot, n)
    store.add_balance_change(tx, plan.member_id, available=-plan.points)
    entry = _entry(plan.member_id, f"spent#{plan.ref}", _now(), "spent", -plan.points, plan.ref)
    store.add_entry(tx, entry, lots={lot.lot_id: n for lot, n in plan.takes})


# --- receipts (L1-L6) ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptResult:
    receipt_id: str
    member_id: str | None
    points: int
    matures_on: date


def get_receipt(receipt_id: str) -> Receipt | None:
    """A receipt with its cumulative `returned` quantities (trade-in reads the laptop purchase)."""
    found = store.get_receipt(receipt_id)
    return found[0].receipt if found else None


def _result(stored: StoredReceipt) -> ReceiptResult:
    r = stored.receipt
    return ReceiptResult(
        receipt_id=r.receipt_id, member_id=r.member_id, points=stored.points, matures_on=stored.matures_on
    )


def _named_member(member_id: str | None, card_number: str | None) -> str | None:
    """L4: the member id a receipt carries, given or found by the scanned card."""
    if card_number is not None:
        member_id = store.member_by_card(card_number)
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
        member = store.get_member(member_id)
    raise Conflict("MEMBER_CHANGED", "The member's account is being merged; try again")


def _receipt_lot(stored: StoredReceipt, member_id: str, pol: LoyaltyPolicy) -> Lot:
    receipt = stored.receipt
    purchase_date = clock.local_date(receipt.purchased_at)
    return Lot(
        member_id=member_id,
        lot_id=f"receipt#{receipt.receipt_id}",
        source="receipt",
        kind="base",
        points=stored.points,
        remaining=stored.points,
        earned_on=purchase_date,
        matures_on=rules.matures_on(purchase_date, pol),
        expires_on=rules.base_expires_on(purchase_date, pol),
        status="pending",
        receipt_id=receipt.receipt_id,
    )


def record_receipt(receipt: Receipt, card_number: str | None, payload: Mapping[str, Any]) -> tuple[ReceiptResult, bool]:
    """L1-L4, L6: store a receipt and, when it carries a member, its pending points.

    Returns (result, created). An identical replay answers the stored result; another payload for
    the same id is 409 RECEIPT_CONFLICT. Receipts without a member are kept for L5.
    """
    pol, fp = policy(), fingerprint(payload)
    named = _named_member(receipt.member_id, card_number)
    # One read for a replay, one read and one transaction for a new receipt (issue 12).
    existing, member = store.get_receipt_and_member(receipt.receipt_id, named)
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
        with store.transaction() as tx:
            store.add_receipt_put(tx, stored)
            if member_id and points > 0:
                _add_earning(tx, stored, member_id, pol)
    except store.TransactWriteError:
        again = store.get_receipt(receipt.receipt_id)
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
    lot = _receipt_lot(stored, member_id, pol)
    store.add_lot_put(tx, lot)
    store.add_balance_change(tx, member_id, pending=lot.points)
    cause = f"receipt:{stored.receipt.receipt_id}"
    store.add_entry(tx, _entry(member_id, f"earned#{lot.lot_id}", _now(), "earned", lot.points, cause))


def register_receipt(member_id: str, receipt_id: str) -> tuple[ReceiptResult, bool]:
    """L5: attach a receipt reported without a member to this member, once.

    Its points are pending until purchase_date + 30 (L6); a receipt registered after that date
    matures in the first nightly run (the lot's matures_on is already due).
    """
    require_active_member(member_id)
    pol = policy()
    found = store.get_receipt(receipt_id)
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
        with store.transaction() as tx:
            store.add_receipt_attach(tx, receipt_id, member_id, stored.points)
            if stored.points > 0:
                _add_earning(tx, stored, member_id, pol)
    except store.TransactWriteError:
        again = store.get_receipt(receipt_id)
        if again is not None and again[0].receipt.member_id == member_id:
            return _result(again[0]), False
        raise Conflict("RECEIPT_ALREADY_REGISTERED", "This receipt is already registered to an account") from None
    logger.info("receipt registered", extra={"receipt_id": receipt_id, "member_id": member_id})
    return _result(stored), True


def receipts(member_id: str, limit: int, cursor: dict[str, Any] | None) -> tuple[list[StoredReceipt], Any]:
    """The member's receipts with their points and matures_on, newest first."""
    require_active_member(member_id)
    return store.receipts_of(member_id, limit, cursor)


# --- returns (L11) -------------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnResult:
    points_reversed: int
    coupons_restored: list[str]
    claims_voided: list[str]


def record_return_ledger(
    receipt_id: str, return_id: str, returned_at: datetime, lines: list[tuple[str, int]], payload: Mapping[str, Any]
) -> tuple[StoredReturn, events.ReceiptReturned | None, bool]:
    """L11: reduce the receipt's points to what the kept lines earn; the return is recorded owing
    its effects on other domains (C8, T12), which chalicelib.flows.record_return does next.
    Idempotent per return_id: the return item (with the effects it owes), the receipt's returned
    quantities and the ledger change commit together. Answers the stored return, the event when
    this call wrote it (None for a replay) and whether it was created now.
    """
    fp = fingerprint({**payload, "receipt_id": receipt_id})
    for _ in range(RETRIES):
        done = store.get_return(return_id)
        if done is not None:
            if done.fingerprint != fp:
                raise Conflict("RETURN_CONFLICT", "A different return with this id was already recorded")
            return done, None, False
        found = store.get_receipt(receipt_id)
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
            owed=frozenset(events.RETURN_EFFECTS),
            results={},
        )
        try:
            with store.transaction() as tx:
                store.add_return_put(tx, record, _now())
                store.add_receipt_returned(tx, receipt_id, returned, points_after, version)
                if member_id and reversed_points:
                    _add_reversal(tx, stored, member_id, reversed_points, return_id)
        except store.TransactWriteError:
            continue  # another return or a merge moved something: read again
        logger.info("return recorded", extra={"receipt_id": receipt_id, "return_id": return_id})
        event = events.ReceiptReturned(
            receipt=replace(stored.receipt, returned=returned), return_id=return_id, returned_at=record.returned_at
        )
        return record, event, True
    raise Conflict("CONCURRENT_UPDATE", "The receipt changed meanwhile; try again")


def _add_reversal(tx: TransactWrite, stored: StoredReceipt, member_id: str, amount: int, return_id: str) -> None:
    """L11: pending points shrink; matured points are clawed back, a shortfall becoming debt."""
    lot_id = f"receipt#{stored.receipt.receipt_id}"
    lots = store.open_lots_of(member_id)
    own = next((lot for lot in lots if lot.lot_id == lot_id), None)
    cause = f"return:{return_id}"
    entry = _entry(member_id, f"reversed#{return_id}", _now(), "reversed", -amount, cause)
    if own is not None and own.status == "pending":
        left = own.remaining - amount
        after = replace(own, points=own.points - amount, remaining=left, status="pending" if left else "reversed")
        store.add_lot_change(tx, own, after)
        store.add_balance_change(tx, member_id, pending=-amount, statuses=("active",))
        store.add_entry(tx, entry, lots={lot_id: amount})
        return
    # (decision) After maturation: own lot first, then soonest-expiring lots, the rest as debt.
    plan = rules.plan_clawback(amount, own, lots, clock.today(), settings().spend_max_lots)
    by_id = {lot.lot_id: lot for lot in lots}
    for take_id, n in plan.takes:
        store.add_lot_take(tx, by_id[take_id], n)
    taken = sum(n for _, n in plan.takes)
    store.add_balance_change(tx, member_id, available=-taken, debt=plan.debt)
    store.add_entry(tx, entry, lots=dict(plan.takes))


def answer(ret: StoredReturn) -> ReturnResult:
    """What the till hears about a return: the points reversed and what its effects did."""
    return ReturnResult(
        points_reversed=ret.points_reversed,
        coupons_restored=list(ret.results.get(events.COUPON_RESTORE, ())),
        claims_voided=list(ret.results.get(events.CLAIM_VOID, ())),
    )


def get_return(return_id: str) -> StoredReturn | None:
    return store.get_return(return_id)


def returned_event(ret: StoredReturn) -> events.ReceiptReturned:
    """The event of a recorded return, from the receipt as stored now."""
    found = store.get_receipt(ret.receipt_id)
    if found is None:
        raise NotFound("RECEIPT_NOT_FOUND", "The returned receipt is gone")
    return events.ReceiptReturned(receipt=found[0].receipt, return_id=ret.return_id, returned_at=ret.returned_at)


def mark_return_effects_done(ret: StoredReturn, done: Mapping[str, list[str]]) -> StoredReturn | None:
    """Mark effects of a return done in one conditional write: the return as it is now, or None
    when a concurrent completer changed it first (read it again)."""
    if not store.mark_return_effects_done(ret.return_id, ret.owed, done):
        return None
    return replace(ret, owed=ret.owed - set(done), results={**ret.results, **{k: tuple(v) for k, v in done.items()}})


def returns_owing(now: datetime) -> Iterator[str]:
    """The ids of returns recorded until `now` that may still owe effects, from the sparse
    `owed_effects` index of every shard (never a scan; the index lags, so read each again)."""
    for shard in range(settings().maturity_shards):
        yield from store.returns_owing(shard, now)


# --- nightly maturation, expiry and debt settlement (L6, L7, L11) ----------------------------


@dataclass
class NightlyCounts:
    lots_matured: int = 0
    points_matured: int = 0
    lots_expired: int = 0
    points_expired: int = 0
    debt_settled: int = 0
    skipped: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)


def run_nightly(today: date) -> NightlyCounts:
    """L6, L7, L11: everything due on or before `today`, found per shard of the date-keyed GSIs.

    The same pages the fan-out workers take (mature_page, expire_page), one after another: each
    lot moves in its own conditional transaction, so a rerun, or a run resumed after a crash,
    finds the lots already moved gone from the (sparse) index or fails their condition.
    """
    counts = NightlyCounts()
    shards = settings().maturity_shards
    for page in (mature_page, expire_page):
        for shard in range(shards):
            cursor: Any = None
            while True:
                cursor = page(shard, today, cursor, settings().nightly_page_size, counts)
                if cursor is None:
                    break
    return counts


def mature_page(shard: int, today: date, cursor: Any, limit: int, counts: NightlyCounts) -> Any:
    """L6/L11 for one page of one shard's due lots; the cursor of the rest (None when done)."""
    lots, next_cursor = store.due_to_mature_page(shard, today, limit, cursor)
    for lot in lots:
        _one_lot(mature_lot, lot, today, counts)
    return next_cursor


def expire_page(shard: int, today: date, cursor: Any, limit: int, counts: NightlyCounts) -> Any:
    """L7 for one page of one shard's lots past their last valid day; the cursor of the rest."""
    lots, next_cursor = store.due_to_expire_page(shard, today, limit, cursor)
    for lot in lots:
        _one_lot(expire_lot, lot, today, counts)
    return next_cursor


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
        at = _now()
        try:
            with store.transaction() as tx:
                store.add_lot_change(tx, current, after)
                store.add_balance_change(
                    tx,
                    current.member_id,
                    pending=-current.remaining,
                    available=left,
                    debt=-settled,
                    expect_debt=debt,
                    statuses=("active", "merging"),
                )
                cause = _lot_cause(current)
                entry = _entry(current.member_id, f"matured#{current.lot_id}", at, "matured", current.remaining, cause)
                store.add_entry(tx, entry)
                if settled:
                    debt_entry = _entry(
                        current.member_id, f"settled#{current.lot_id}", at, "adjusted", -settled, "debt_settlement"
                    )
                    store.add_entry(tx, debt_entry)
        except store.TransactWriteError:
            current = store.get_lot(lot.member_id, lot.lot_id)  # GSI reads lag: the base item decides
            if current is None or current.status != "pending":
                continue
            member = store.get_member(lot.member_id)
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
            with store.transaction() as tx:
                store.add_lot_change(tx, current, after)
                store.add_balance_change(
                    tx, current.member_id, available=-current.remaining, statuses=("active", "merging")
                )
                if current.remaining:
                    entry = _entry(
                        current.member_id,
                        f"expired#{current.lot_id}",
                        _now(),
                        "expired",
                        -current.remaining,
                        _lot_cause(current),
                    )
                    store.add_entry(tx, entry)
        except store.TransactWriteError:
            current = store.get_lot(lot.member_id, lot.lot_id)
            continue
        counts.lots_expired += 1
        counts.points_expired += current.remaining
        return
    counts.skipped += 1
    counts.failures.append({"id": f"lot:{lot.member_id}#{lot.lot_id}", "reason": "CONDITION_FAILED"})


# --- account merge (L13) -------------------------------------------------------------------


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
    source = store.get_member(source_id)
    if source is None:
        raise NotFound("MEMBER_NOT_FOUND", "No member with the source id")
    if source.merged_into not in (None, target.member_id):
        raise Conflict("ALREADY_MERGED", "The source account was merged into another account")
    if source.status == "merged":
        done = store.merge_result_of(source_id)
        if done is not None:  # a retry of a completed merge answers what the merge did
            return MergeResult(**done), True
    if source.status == "active" and not store.mark_merging(source_id, target_id):
        raise Conflict("CONCURRENT_UPDATE", "The source account changed meanwhile; try again")
    moved = sum(_move_lot(lot, target_id) for lot in store.lots_of(source_id))
    receipts_moved = sum(store.move_receipt(rid, source_id, target_id) for rid in store.all_receipt_ids_of(source_id))
    copied = 0
    for entry, lots in store.all_history_of(source_id):
        copy = replace(entry, member_id=target_id, entry_id=f"{entry.entry_id}@{source_id}")
        copied += store.put_history_copy(copy, lots)
    _move_debt(source_id, target_id)
    return MergeResult(target_id, source_id, moved, receipts_moved, copied, []), False


def close_merge(result: MergeResult) -> MergeResult:
    """L13: close the merged source account (410 ACCOUNT_MERGED from then on), recording what the
    merge did; a concurrent run that closed it first answers its own result."""
    source_id, target_id = result.source_member_id, result.target_member_id
    moved, receipts_moved = result.lots_moved, result.receipts_moved
    if not store.close_merged(source_id, asdict(result)):
        done = store.merge_result_of(source_id)
        if done is not None:
            return MergeResult(**done)  # a concurrent run of this merge closed it first
        if store.get_member(source_id).status != "merged":  # type: ignore[union-attr]
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
            with store.transaction() as tx:
                store.add_lot_delete(tx, current)
                store.add_lot_put(tx, replace(current, member_id=target_id))
                store.add_balance_change(
                    tx, current.member_id, pending=-pending, available=-available, statuses=("merging",)
                )
                store.add_balance_change(tx, target_id, pending=pending, available=available)
                if pending + available:  # a spent, expired or reversed lot moves without a 0-point entry
                    cause = f"merge:{current.member_id}"
                    entry_id = f"merged#{current.member_id}#{current.lot_id}"
                    store.add_entry(tx, _entry(target_id, entry_id, _now(), "adjusted", pending + available, cause))
        except store.TransactWriteError:
            current = store.get_lot(lot.member_id, lot.lot_id)
            continue
        return 1
    raise Conflict("CONCURRENT_UPDATE", "A lot changed during the merge; run the merge again")


def _move_debt(source_id: str, target_id: str) -> None:
    source = store.get_member(source_id)
    if source is None or source.balance.debt == 0:
        return
    debt = source.balance.debt
    with store.transaction() as tx:
        store.add_balance_change(tx, source_id, debt=-debt, expect_debt=debt, statuses=("merging",))
        store.add_balance_change(tx, target_id, debt=debt)
        entry_id = f"merged#{source_id}#debt"
        store.add_entry(tx, _entry(target_id, entry_id, _now(), "adjusted", 0, f"merge:{source_id}:debt:{debt}"))
