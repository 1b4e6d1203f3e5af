"""Use cases of the coupons domain (C1-C9): routes, jobs and other domains call these."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from pynamodb.transactions import TransactWrite

from chalicelib import clock
from chalicelib.config import Settings, settings
from chalicelib.coupons import rules, store
from chalicelib.coupons.rules import Basket, Coupon, CouponPolicy, Redemption, Tier, Validation
from chalicelib.errors import BadRequest, Conflict, Unprocessable
from chalicelib.events import ReceiptReturned
from chalicelib.ids import fingerprint, random_code
from chalicelib.observability import logger
from chalicelib.sales import Line

# A transaction cancelled by a concurrent writer is planned again from fresh reads this often.
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Issued:
    coupon: Coupon
    created: bool  # False: a replay of the same Idempotency-Key and body


@dataclass(frozen=True)
class Redeemed:
    receipt_id: str
    codes: tuple[str, ...]
    discount_cents: int


def policy() -> CouponPolicy:
    """The coupon policy as configured now (G5)."""
    return policy_from(settings())


def policy_from(cfg: Settings) -> CouponPolicy:
    """The coupon policy of these settings (tests build theirs from `Settings()` this way)."""
    return CouponPolicy(
        tiers=tuple(Tier(t.amount_cents, t.points) for t in cfg.coupon_tiers),
        validity_years=cfg.coupon_validity_years,
        min_basket_cents=cfg.coupon_min_basket_cents,
        excluded_channels=frozenset(cfg.coupon_excluded_channels),
    )


def new_code() -> str:
    """A fresh coupon code: `secrets`-random body plus its check character (C9)."""
    return rules.make_code(random_code(rules.CODE_BODY_LENGTH, rules.CODE_ALPHABET))


@dataclass(frozen=True)
class Conversion:
    """One conversion request (C1): its tier and its idempotency record's key and hash."""

    member_id: str
    tier: Tier
    validity_years: int
    request_key: str
    request_hash: str


def plan_conversion(member_id: str, amount_cents: int, idempotency_key: str) -> Conversion:
    """C1: the tier of `amount_cents` (422 UNKNOWN_TIER) and the request's idempotency record."""
    current = policy()
    tier = rules.tier_for(amount_cents, current.tiers)
    if tier is None:
        offered = [{"amount_cents": t.amount_cents, "points": t.points} for t in current.tiers]
        raise Unprocessable("UNKNOWN_TIER", "No coupon tier offers this amount", {"tiers": offered})
    return Conversion(
        member_id=member_id,
        tier=tier,
        validity_years=current.validity_years,
        request_key=f"{member_id}#{idempotency_key}",
        request_hash=fingerprint({"amount_cents": amount_cents}),
    )


def new_coupon(conversion: Conversion, today: date) -> Coupon:
    """A fresh active coupon of the conversion's tier, issued today (C1, C2, C9)."""
    return Coupon(
        code=new_code(),
        member_id=conversion.member_id,
        amount_cents=conversion.tier.amount_cents,
        points=conversion.tier.points,
        issued_on=today,
        expires_on=rules.coupon_expires_on(today, conversion.validity_years),
        status="active",
    )


def add_issue(tx: TransactWrite, conversion: Conversion, coupon: Coupon, now: datetime) -> None:
    """Add the new coupon and its request record to the caller's transaction (C1): a replay of
    the key, or a coupon code taken, cancels it (store.TransactionCancelled)."""
    issued_at = now.isoformat(timespec="microseconds")  # orders the member's list
    shards = settings().coupon_expiry_shards
    store.add_issue(tx, coupon, issued_at, shards, conversion.request_key, conversion.request_hash)


def replayed_conversion(conversion: Conversion) -> Coupon | None:
    """The coupon an earlier call with this key issued (None: none yet); 409 for another body."""
    return _replayed_conversion(conversion.request_key, conversion.request_hash)


def _replayed_conversion(request_key: str, request_hash: str) -> Coupon | None:
    found = store.get_request(request_key)
    if found is None:
        return None
    stored_hash, code = found
    if stored_hash != request_hash:
        raise Conflict("IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was used with another request body")
    coupon = store.get_coupon(code)
    if coupon is None:
        raise Conflict("IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key belongs to another request")
    return coupon


def list_coupons(
    member_id: str, limit: int, start_key: dict[str, Any] | None
) -> tuple[list[tuple[Coupon, rules.Status]], dict[str, Any] | None]:
    """A page of the member's own coupons with their status today (C2, C3); the member is known
    active (chalicelib.flows.list_coupons checks it, L13)."""
    if start_key is not None and not _is_member_cursor(start_key, member_id):
        raise BadRequest("INVALID_CURSOR", "cursor is not one this API handed out")
    today = clock.today()
    page, next_key = store.member_coupons(member_id, limit, start_key)
    return [(c, rules.effective_status(c, today)) for c in page], next_key


def _is_member_cursor(key: dict[str, Any], member_id: str) -> bool:
    expected = {"code", "member_id", "issued_at"}
    if set(key) != expected or not all(isinstance(v, dict) and isinstance(v.get("S"), str) for v in key.values()):
        return False
    return bool(key["member_id"]["S"] == member_id)


def validate(member_id: str, channel: str, lines: Sequence[Line], raw_codes: Sequence[str]) -> Validation:
    """Which codes this shopper may use on this basket, and why not (C3-C6). Writes nothing."""
    codes = [rules.normalise_code(c) for c in raw_codes]
    return _validate(member_id, Basket(channel, tuple(lines)), codes, clock.today())


def _validate(
    member_id: str, basket: Basket, codes: Sequence[str], today: date, found: dict[str, Coupon] | None = None
) -> Validation:
    # C9: a code whose check character is wrong is NOT_FOUND without a read of the table.
    if found is None:
        lookups = _lookups(codes)
        found = store.get_coupons(lookups) if lookups else {}
    return rules.validate_codes(member_id, basket, codes, found, today, policy())


def _lookups(codes: Sequence[str]) -> list[str]:
    return [c for c in codes if rules.code_is_well_formed(c)]


def redeem(receipt_id: str, member_id: str, channel: str, lines: Sequence[Line], raw_codes: Sequence[str]) -> Redeemed:
    """Redeem every code for one order, all or nothing, once per `receipt_id` (C7)."""
    codes = [rules.normalise_code(c) for c in raw_codes]
    request_hash = fingerprint(
        {
            "member_id": member_id,
            "channel": channel,
            "lines": [asdict(line) for line in lines],
            "codes": codes,
        }
    )
    basket = Basket(channel, tuple(lines))
    for _ in range(MAX_ATTEMPTS):
        today = clock.today()
        # One BatchGetItem for the coupons and the order's redemption; then one transaction.
        found, existing = store.get_coupons_and_redemption(_lookups(codes), receipt_id)
        if existing is not None:
            return _replayed_redemption(existing, request_hash)
        checked = _validate(member_id, basket, codes, today, found)
        if not checked.all_accepted:
            # The batch reads its items in no set order: a coupon seen used by a concurrent retry
            # of this very order has its redemption visible by now (one transaction), so look
            # again before refusing, and answer that retry as a replay.
            existing = store.get_redemption(receipt_id)
            if existing is not None:
                return _replayed_redemption(existing, request_hash)
            raise Conflict("COUPON_NOT_REDEEMABLE", "No coupon was redeemed", _details(checked))
        redemption = Redemption(
            receipt_id=receipt_id,
            member_id=member_id,
            request_hash=request_hash,
            codes=tuple(a.code for a in checked.accepted),
            discount_cents=checked.discount_cents,
        )
        try:
            store.redeem(redemption, today, clock.iso(clock.now()))
        except store.TransactionCancelled:
            # Another order took a coupon, or this order was redeemed meanwhile: read again.
            continue
        logger.info("coupons redeemed", extra={"receipt_id": receipt_id, "coupons": len(redemption.codes)})
        return Redeemed(receipt_id, redemption.codes, redemption.discount_cents)
    raise Conflict("CONCURRENT_UPDATE", "The coupons changed while redeeming; try again")


def _replayed_redemption(existing: Redemption, request_hash: str) -> Redeemed:
    if existing.request_hash != request_hash:
        raise Conflict("REDEMPTION_CONFLICT", "This receipt_id was redeemed with another request body")
    return Redeemed(existing.receipt_id, existing.codes, existing.discount_cents)


def _details(checked: Validation) -> dict[str, Any]:
    return {
        "accepted": [{"code": a.code, "amount_cents": a.amount_cents} for a in checked.accepted],
        "rejected": [{"code": r.code, "reason": r.reason} for r in checked.rejected],
    }


def redemption_read(receipt_id: str) -> tuple[Any, Any]:
    """The key a return reads with its receipt in one BatchGetItem (chalicelib.flows)."""
    return store.redemption_read(receipt_id)


def nothing_to_restore(item: Any) -> bool:
    """C8: True when the order of a receipt redeemed no coupons (`item` answers `redemption_read`),
    so its return owes no restore; otherwise `restore_for_return` decides after the return."""
    return store.redemption_of(item) is None


def restore_for_return(event: ReceiptReturned) -> list[str]:
    """Restore the coupons redeemed on a returned receipt, keeping their expiry (C8).

    Idempotent: the return that restored them reports the same codes on every replay; any other
    return of that receipt (earlier partial ones, later ones) reports an empty list.
    """
    receipt = event.receipt
    for _ in range(MAX_ATTEMPTS):
        redemption = store.get_redemption(receipt.receipt_id)
        if redemption is None:
            return []
        if redemption.restored_by_return_id is not None:
            return list(redemption.codes) if redemption.restored_by_return_id == event.return_id else []
        if not rules.restore_due(receipt.lines, receipt.returned, redemption.discount_cents):
            return []
        try:
            store.restore(redemption, event.return_id, clock.iso(clock.now()), settings().coupon_expiry_shards)
        except store.TransactionCancelled:
            continue  # another delivery of a return got there first, or a writer conflicted: read again
        logger.info("coupons restored", extra={"receipt_id": receipt.receipt_id, "coupons": len(redemption.codes)})
        return list(redemption.codes)
    # Raised to the return's caller, which stores no effects yet: its retry restores them then.
    raise Conflict("CONCURRENT_UPDATE", "The coupons of this receipt changed meanwhile; try again")


def transfer_coupons(source_member_id: str, target_member_id: str) -> list[str]:
    """Move every coupon of the merged account to the target account (L13). Idempotent: every
    run returns all codes that came over from the source."""
    moved = [
        c for c in store.all_member_codes(source_member_id) if store.move_to(c, source_member_id, target_member_id)
    ]
    codes = sorted(set(moved) | set(store.transferred_codes(source_member_id, target_member_id)))
    logger.info("coupons transferred", extra={"coupons": len(codes), "moved_now": len(moved)})
    return codes


def expire_page(shard: int, today: date, cursor: Any, limit: int) -> tuple[dict[str, Any], Any]:
    """C2 for one page of one expiry shard: the page's summary (failures per coupon, the page goes
    on) and the cursor of the rest (None when the shard is done). Rerun-safe."""
    codes, next_cursor = store.due_for_expiry_page(shard, today, limit, cursor)
    expired = 0
    failures: list[dict[str, str]] = []
    for code in codes:
        try:
            expired += store.expire(code, today)
        except Exception as exc:
            failures.append({"id": f"coupon:{code}", "reason": type(exc).__name__})
    return {"coupons_expired": expired, "coupons_due": len(codes), "failures": failures}, next_cursor
