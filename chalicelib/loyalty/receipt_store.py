"""The receipts and returns tables of the loyalty domain: receipts with their returned
quantities (optimistic on a version), returns with the effects they owe (C8, T12)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib import db
from chalicelib.clock import local_date
from chalicelib.config import settings
from chalicelib.db import batch_get, set_value
from chalicelib.loyalty.history_store import one_page
from chalicelib.loyalty.member_store import to_member
from chalicelib.loyalty.models import MemberModel, ReceiptModel, ReturnModel
from chalicelib.loyalty.rules import Member, StoredReceipt, StoredReturn, shard_of
from chalicelib.sales import Line, Receipt


def _receipt(item: ReceiptModel) -> StoredReceipt:
    receipt = Receipt(
        receipt_id=item.receipt_id,
        channel=item.channel,  # type: ignore[arg-type]
        purchased_at=datetime.fromisoformat(item.purchased_at),
        lines=tuple(Line(**line) for line in item.lines),
        member_id=item.member_id,
        store_id=item.store_id,
        coupon_discount_cents=int(item.coupon_discount_cents or 0),
        returned={k: int(v) for k, v in (item.returned or {}).items()},
    )
    return StoredReceipt(
        receipt=receipt,
        points=int(item.points),
        matures_on=date.fromisoformat(item.matures_on),
        fingerprint=item.fingerprint,
    )


def add_receipt_put(tx: TransactWrite, stored: StoredReceipt) -> None:
    tx.save(_receipt_item(stored), condition=ReceiptModel.receipt_id.does_not_exist())


def _receipt_item(stored: StoredReceipt) -> ReceiptModel:
    receipt = stored.receipt
    return ReceiptModel(
        receipt.receipt_id,
        member_id=receipt.member_id,
        channel=receipt.channel,
        store_id=receipt.store_id,
        purchased_at=receipt.purchased_at.isoformat(),
        purchase_date=local_date(receipt.purchased_at).isoformat(),
        coupon_discount_cents=receipt.coupon_discount_cents,
        lines=[asdict(line) for line in receipt.lines],
        returned=dict(receipt.returned),
        points=stored.points,
        matures_on=stored.matures_on.isoformat(),
        fingerprint=stored.fingerprint,
        version=0,
    )


def add_receipt_attach(tx: TransactWrite, receipt_id: str, member_id: str, points: int) -> None:
    """L5: attach an anonymous receipt to a member, once."""
    tx.update(
        ReceiptModel(receipt_id),
        actions=[
            ReceiptModel.member_id.set(member_id),
            ReceiptModel.points.set(points),
            ReceiptModel.version.add(1),
        ],
        condition=ReceiptModel.member_id.does_not_exist(),
    )


def add_receipt_returned(
    tx: TransactWrite, receipt_id: str, returned: dict[str, int], points: int, version: int
) -> None:
    """Record cumulative returned quantities, only on the version we computed them from."""
    tx.update(
        ReceiptModel(receipt_id),
        actions=[
            set_value(ReceiptModel.returned, returned),  # line ids are user data: never a raw dict
            ReceiptModel.points.set(points),
            ReceiptModel.version.add(1),
        ],
        condition=ReceiptModel.version == version,
    )


def move_receipt(receipt_id: str, source: str, target: str) -> bool:
    """L13: re-own one receipt; False when it was moved before (a resumed merge)."""
    return db.applied(
        lambda: ReceiptModel(receipt_id).update(
            actions=[ReceiptModel.member_id.set(target), ReceiptModel.version.add(1)],
            condition=ReceiptModel.member_id == source,
        )
    )


def add_return_put(
    tx: TransactWrite,
    ret: StoredReturn,
    recorded_at: datetime,
) -> None:
    """The return with the effects it owes (C8, T12), listed in the sparse `owed_effects` index."""
    item = ReturnModel(
        ret.return_id,
        receipt_id=ret.receipt_id,
        fingerprint=ret.fingerprint,
        returned_at=ret.returned_at.isoformat(),
        points_reversed=ret.points_reversed,
    )
    if ret.owed:
        item.owed_effects = set(ret.owed)
        item.owed_shard = shard_of(ret.return_id, settings().maturity_shards)
        item.owed_since = _utc(recorded_at)
    tx.save(item, condition=ReturnModel.return_id.does_not_exist())


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


_EFFECT_RESULTS = {"coupon_restore": ReturnModel.coupons_restored, "claim_void": ReturnModel.claims_voided}


def return_reads(receipt_id: str, return_id: str) -> list[tuple[Any, Any]]:
    """The keys a return reads first (its own record, the receipt), for one BatchGetItem that
    chalicelib.flows may share with another domain's reads."""
    return [(ReturnModel, return_id), (ReceiptModel, receipt_id)]


def return_and_receipt(items: list[Any]) -> tuple[StoredReturn | None, tuple[StoredReceipt, int] | None]:
    """The answers to `return_reads`: the recorded return, the receipt with its version."""
    ret, receipt = items
    return (_return(ret) if ret is not None else None), (
        (_receipt(receipt), int(receipt.version)) if receipt is not None else None
    )


def get_return_and_receipt(
    receipt_id: str, return_id: str
) -> tuple[StoredReturn | None, tuple[StoredReceipt, int] | None]:
    """A return and its receipt in one BatchGetItem."""
    return return_and_receipt(batch_get(return_reads(receipt_id, return_id)))


def get_receipt_and_member(
    receipt_id: str, member_id: str | None
) -> tuple[tuple[StoredReceipt, int] | None, Member | None]:
    """A receipt with its version, and the member it names, in one BatchGetItem."""
    keys: list[tuple[Any, Any]] = [(ReceiptModel, receipt_id)]
    if member_id is not None:
        keys.append((MemberModel, member_id))
    items = batch_get(keys)
    receipt = (_receipt(items[0]), int(items[0].version)) if items[0] is not None else None
    member = to_member(items[1]) if member_id is not None and items[1] is not None else None
    return receipt, member


def get_receipt(receipt_id: str) -> tuple[StoredReceipt, int] | None:
    """The stored receipt and its version (for optimistic updates)."""
    try:
        item = ReceiptModel.get(receipt_id, consistent_read=True)
    except DoesNotExist:
        return None
    return _receipt(item), int(item.version)


def receipts_of(member_id: str, limit: int, cursor: dict[str, Any] | None) -> tuple[list[StoredReceipt], Any]:
    """A member's receipts, newest first (GSI by_member), one page."""
    query = ReceiptModel.by_member.query(
        member_id, scan_index_forward=False, limit=limit + 1, last_evaluated_key=cursor
    )
    page, last = one_page(list(query), limit, ("receipt_id", "member_id", "purchased_at"))
    return [_receipt(item) for item in page], last


def all_receipt_ids_of(member_id: str) -> list[str]:
    return [str(item.receipt_id) for item in ReceiptModel.by_member.query(member_id)]


def _return(item: ReturnModel) -> StoredReturn:
    results = {
        name: tuple(getattr(item, attr.attr_name))
        for name, attr in _EFFECT_RESULTS.items()
        if getattr(item, attr.attr_name) is not None
    }
    return StoredReturn(
        return_id=item.return_id,
        receipt_id=item.receipt_id,
        fingerprint=item.fingerprint,
        returned_at=datetime.fromisoformat(item.returned_at),
        points_reversed=int(item.points_reversed),
        owed=frozenset(item.owed_effects or ()),
        results=results,
    )


def get_return(return_id: str) -> StoredReturn | None:
    try:
        return _return(ReturnModel.get(return_id, consistent_read=True))
    except DoesNotExist:
        return None


def mark_return_effects_done(return_id: str, owed: frozenset[str], done: Mapping[str, list[str]]) -> bool:
    """Record owed effects as done with their results; False if the owed set is no longer `owed`.

    The condition pins the whole owed set as read (effects only ever leave it), so of two
    concurrent completers one wins and the other reads again; the write that completes the last
    effect also drops the return from the `owed_effects` index.
    """
    condition: Condition | None = None
    for name in sorted(owed):
        found = ReturnModel.owed_effects.contains(name)
        condition = found if condition is None else condition & found
    actions: list[Action] = [set_value(_EFFECT_RESULTS[name], list(result)) for name, result in done.items()]
    actions.append(ReturnModel.owed_effects.delete(set(done)))
    if set(done) >= owed:
        actions += [ReturnModel.owed_shard.remove(), ReturnModel.owed_since.remove()]
    return db.applied(lambda: ReturnModel(return_id).update(actions=actions, condition=condition))


def returns_owing(shard: int, until: datetime) -> Iterator[str]:
    """C8, T12: ids of returns of one shard recorded until `until` that still owe effects
    (sparse GSI `owed_effects`, keys only: the caller re-reads each base item)."""
    for item in ReturnModel.owed.query(shard, ReturnModel.owed_since <= _utc(until)):
        yield str(item.return_id)
