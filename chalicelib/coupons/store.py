"""Every query and transaction of the coupons domain; returns the rules' dataclasses."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from chalicelib import clock, db
from chalicelib.config import settings
from chalicelib.coupons.models import CouponModel, CouponRequestModel, RedemptionModel
from chalicelib.coupons.rules import Coupon, Redemption, expiry_shard, shard_number
from chalicelib.db import batch_get

MAX_BATCH_GET = 100


TransactionCancelled = db.TransactionCancelled
_transaction = db.transaction


def to_coupon(item: CouponModel) -> Coupon:
    return Coupon(
        code=item.code,
        member_id=item.member_id,
        amount_cents=int(item.amount_cents),
        points=int(item.points),
        issued_on=date.fromisoformat(item.issued_on),
        expires_on=date.fromisoformat(item.expires_on),
        status=item.status,  # type: ignore[arg-type]
        redeemed_receipt_id=item.redeemed_receipt_id,
        transferred_from=item.transferred_from,
    )


def _to_redemption(item: RedemptionModel) -> Redemption:
    return Redemption(
        receipt_id=item.receipt_id,
        member_id=item.member_id,
        request_hash=item.request_hash,
        codes=tuple(map(str, item.codes or ())),
        discount_cents=int(item.discount_cents),
        restored_by_return_id=item.restored_by_return_id,
    )


def get_coupon(code: str) -> Coupon | None:
    try:
        return to_coupon(CouponModel.get(code, consistent_read=True))
    except DoesNotExist:
        return None


def get_coupons(codes: Iterable[str]) -> dict[str, Coupon]:
    """The stored coupons among `codes` (strongly consistent), by code."""
    wanted = list(dict.fromkeys(codes))
    found: dict[str, Coupon] = {}
    for start in range(0, len(wanted), MAX_BATCH_GET):
        for item in CouponModel.batch_get(wanted[start : start + MAX_BATCH_GET], consistent_read=True):
            found[item.code] = to_coupon(item)
    return found


def _coupon_item(coupon: Coupon, issued_at: str, shards: int) -> CouponModel:
    return CouponModel(
        coupon.code,
        member_id=coupon.member_id,
        amount_cents=coupon.amount_cents,
        points=coupon.points,
        issued_at=issued_at,
        issued_on=coupon.issued_on.isoformat(),
        expires_on=coupon.expires_on.isoformat(),
        status="active",
        expiry_shard=expiry_shard(coupon.code, shards),
        changed_shard=shard_number(coupon.code, shards),
        changed_on=clock.today().isoformat(),
    )


def _changed(code: str) -> list[Any]:
    """The coupon is on tonight's liability list (index `changed-index`, chalicelib/reconciliation)."""
    return [
        CouponModel.changed_shard.set(shard_number(code, settings().coupon_expiry_shards)),
        CouponModel.changed_on.set(clock.today().isoformat()),
    ]


def add_issue(
    tx: TransactWrite, coupon: Coupon, issued_at: str, shards: int, request_key: str, request_hash: str
) -> None:
    """Add to `tx` a new coupon and its conversion request record; neither item may exist yet
    (the transaction is then cancelled: TransactionCancelled)."""
    tx.save(_coupon_item(coupon, issued_at, shards), condition=CouponModel.code.does_not_exist())
    record = CouponRequestModel(request_key, request_hash=request_hash, code=coupon.code, created_at=issued_at)
    tx.save(record, condition=CouponRequestModel.request_key.does_not_exist())


def get_request(request_key: str) -> tuple[str, str] | None:
    """The (request_hash, code) recorded for a conversion request, if any."""
    try:
        item = CouponRequestModel.get(request_key, consistent_read=True)
    except DoesNotExist:
        return None
    return item.request_hash, item.code


def member_coupons(
    member_id: str, limit: int, start_key: dict[str, Any] | None
) -> tuple[list[Coupon], dict[str, Any] | None]:
    """One page of a member's coupons in issue order, and the key to continue from."""
    # One item more than asked: a key to continue from only when more exist (DynamoDB hands out a
    # LastEvaluatedKey on every full page; the contract wants next_cursor null on the last one).
    items = list(CouponModel.member_index.query(member_id, limit=limit + 1, last_evaluated_key=start_key))
    if len(items) <= limit:
        return [to_coupon(item) for item in items], None
    last = items[limit - 1]
    next_key = {name: {"S": getattr(last, name)} for name in ("code", "member_id", "issued_at")}
    return [to_coupon(item) for item in items[:limit]], next_key


def all_member_codes(member_id: str) -> list[str]:
    """Every code the member-index lists for a member (all pages)."""
    return [item.code for item in CouponModel.member_index.query(member_id)]


def get_redemption(receipt_id: str) -> Redemption | None:
    try:
        return _to_redemption(RedemptionModel.get(receipt_id, consistent_read=True))
    except DoesNotExist:
        return None


def redemption_read(receipt_id: str) -> tuple[Any, Any]:
    """The key of an order's redemption, for a BatchGetItem that chalicelib.flows shares with
    another domain's reads (a return reads it with its receipt)."""
    return (RedemptionModel, receipt_id)


def redemption_of(item: Any) -> Redemption | None:
    """The answer to `redemption_read`."""
    return _to_redemption(item) if item is not None else None


def get_coupons_and_redemption(codes: Iterable[str], receipt_id: str) -> tuple[dict[str, Coupon], Redemption | None]:
    """The stored coupons among `codes` and the order's redemption, in one BatchGetItem (C7)."""
    wanted = list(dict.fromkeys(codes))[: MAX_BATCH_GET - 1]
    items = batch_get([(RedemptionModel, receipt_id), *((CouponModel, code) for code in wanted)])
    found = {item.code: to_coupon(item) for item in items[1:] if item is not None}
    return found, _to_redemption(items[0]) if items[0] is not None else None


def redeem(redemption: Redemption, today: date, redeemed_at: str) -> None:
    """C7: in one transaction, record the order's redemption (once per `receipt_id`) and mark each
    coupon used on condition that it is still active, still the shopper's and not past its date.

    Raises TransactionCancelled when any condition fails; then nothing was written.
    """
    with _transaction() as tx:
        tx.save(
            RedemptionModel(
                redemption.receipt_id,
                member_id=redemption.member_id,
                request_hash=redemption.request_hash,
                codes=list(redemption.codes),
                discount_cents=redemption.discount_cents,
                redeemed_at=redeemed_at,
            ),
            condition=RedemptionModel.receipt_id.does_not_exist(),
        )
        for code in redemption.codes:
            tx.update(
                CouponModel(code),
                actions=[
                    CouponModel.status.set("used"),
                    CouponModel.redeemed_receipt_id.set(redemption.receipt_id),
                    CouponModel.redeemed_at.set(redeemed_at),
                    CouponModel.expiry_shard.remove(),
                    *_changed(code),
                ],
                condition=(
                    CouponModel.code.exists()
                    & (CouponModel.status == "active")
                    & (CouponModel.member_id == redemption.member_id)
                    & (CouponModel.expires_on >= today.isoformat())
                ),
            )


def restore(redemption: Redemption, return_id: str, restored_at: str, shards: int) -> None:
    """C8: mark the redemption restored by `return_id` (once) and make its coupons active again,
    keeping their original `expires_on`. Raises TransactionCancelled when already restored."""
    with _transaction() as tx:
        tx.update(
            RedemptionModel(redemption.receipt_id),
            actions=[
                RedemptionModel.restored_by_return_id.set(return_id),
                RedemptionModel.restored_at.set(restored_at),
            ],
            condition=RedemptionModel.receipt_id.exists() & RedemptionModel.restored_by_return_id.does_not_exist(),
        )
        for code in redemption.codes:
            tx.update(
                CouponModel(code),
                actions=[
                    CouponModel.status.set("active"),
                    CouponModel.restored_at.set(restored_at),
                    CouponModel.expiry_shard.set(expiry_shard(code, shards)),
                    CouponModel.redeemed_receipt_id.remove(),
                    CouponModel.redeemed_at.remove(),
                    *_changed(code),
                ],
                condition=(CouponModel.status == "used") & (CouponModel.redeemed_receipt_id == redemption.receipt_id),
            )


def due_for_expiry_page(shard: int, today: date, limit: int, cursor: Any) -> tuple[list[str], Any]:
    """Codes of active coupons of one shard whose last valid day is before `today`, one page of
    the sparse expiry index (never a Scan, C2; eventually consistent), and the key to continue
    from (None when done)."""
    query = CouponModel.expiry_index.query(
        f"S{shard}", CouponModel.expires_on < today.isoformat(), limit=limit, last_evaluated_key=cursor
    )
    codes = [item.code for item in query]
    return codes, query.last_evaluated_key


def expire(code: str, today: date) -> bool:
    """Mark one coupon expired if the base item is still active and past its date (C2).

    The condition re-checks what the eventually consistent index said; False: nothing to do.
    """
    return db.applied(
        lambda: CouponModel(code).update(
            actions=[
                CouponModel.status.set("expired"),
                CouponModel.expired_on.set(today.isoformat()),
                CouponModel.expiry_shard.remove(),
                *_changed(code),
            ],
            condition=CouponModel.code.exists()
            & (CouponModel.status == "active")
            & (CouponModel.expires_on < today.isoformat()),
        )
    )


def move_to(code: str, source_member_id: str, target_member_id: str) -> bool:
    """Give one coupon of `source` to `target` (L13 merge). False when it is no longer source's."""
    return db.applied(
        lambda: CouponModel(code).update(
            actions=[
                CouponModel.member_id.set(target_member_id),
                CouponModel.transferred_from.set(source_member_id),
            ],
            condition=CouponModel.code.exists() & (CouponModel.member_id == source_member_id),
        )
    )


def changed_page(shard: int, first: date, last: date, limit: int, cursor: Any) -> tuple[list[str], Any]:
    """Codes of one shard whose status last changed between `first` and `last`, one page (issue 16)."""
    query = CouponModel.changed_index.query(
        shard,
        CouponModel.changed_on.between(first.isoformat(), last.isoformat()),
        limit=limit,
        last_evaluated_key=cursor,
    )
    return [item.code for item in query], query.last_evaluated_key


def transferred_codes(source_member_id: str, target_member_id: str) -> list[str]:
    """Codes the target holds that came from the source by a merge."""
    return [
        item.code
        for item in CouponModel.member_index.query(
            target_member_id, filter_condition=CouponModel.transferred_from == source_member_id
        )
    ]
