"""The lots table of the loyalty ledger: conversions, transaction actions, reads and the nightly
work lists (sparse GSIs `maturing` and `expiring`).

Lot actions note what they change in the member's available points per expiry date (L12) on the
transaction; the member's action that follows (member_store) carries that summary onto the
member item. Lot actions must therefore come before the member's action in a transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.config import settings
from chalicelib.loyalty.models import LotModel
from chalicelib.loyalty.rules import Lot, shard_of


def to_lot(item: LotModel) -> Lot:
    return Lot(
        member_id=item.member_id,
        lot_id=item.lot_id,
        source=item.source,
        kind=item.kind,  # type: ignore[arg-type]
        points=int(item.points),
        remaining=int(item.remaining),
        earned_on=date.fromisoformat(item.earned_on),
        matures_on=date.fromisoformat(item.matures_on),
        expires_on=date.fromisoformat(item.expires_on),
        status=item.status,  # type: ignore[arg-type]
        receipt_id=item.receipt_id,
    )


def lot_item(lot: Lot) -> LotModel:
    """The lot's item, with the sparse index keys its status asks for (L6/L7 job work lists)."""
    item = LotModel(
        lot.member_id,
        lot.lot_id,
        source=lot.source,
        kind=lot.kind,
        points=lot.points,
        remaining=lot.remaining,
        earned_on=lot.earned_on.isoformat(),
        matures_on=lot.matures_on.isoformat(),
        expires_on=lot.expires_on.isoformat(),
        status=lot.status,
        receipt_id=lot.receipt_id,
    )
    shards = settings().maturity_shards
    key = f"{lot.member_id}#{lot.lot_id}"
    if lot.status == "pending":
        item.mature_shard = shard_of(key, shards)
        item.mature_due = lot.matures_on.isoformat()
    if lot.status == "available" and lot.remaining > 0:
        item.expire_shard = shard_of(key, shards)
        item.expire_due = lot.expires_on.isoformat()
    return item


def _note_available(tx: TransactWrite, lot: Lot, points: int) -> None:
    """L12: `points` more (or fewer) available points expiring on the lot's date, carried onto the
    member item by the member's action in the same transaction (member_store)."""
    if not points:
        return
    if lot.member_id in tx.__dict__.setdefault("_expiring_written", set()):
        raise RuntimeError("a lot action after its member's balance action: the expiring summary would miss it")
    per_day = tx.__dict__.setdefault("_expiring", {}).setdefault(lot.member_id, {})
    key = lot.expires_on.isoformat()
    per_day[key] = per_day.get(key, 0) + points


def expiring_changes(tx: TransactWrite, member_id: str) -> dict[str, int]:
    """What the lot actions so far changed for this member, per expiry date; from now on a lot
    action of this member in `tx` is refused (its change would be missed)."""
    tx.__dict__.setdefault("_expiring_written", set()).add(member_id)
    return dict(tx.__dict__.setdefault("_expiring", {}).pop(member_id, {}))


def add_lot_put(tx: TransactWrite, lot: Lot) -> None:
    """A new lot; its deterministic id makes a replay fail instead of awarding twice (L8, L9)."""
    _note_available(tx, lot, lot.remaining if lot.status == "available" else 0)
    tx.save(lot_item(lot), condition=LotModel.lot_id.does_not_exist())


def add_lot_change(tx: TransactWrite, before: Lot, after: Lot) -> None:
    """Move a lot from the state we read to a new one, or fail if someone moved it first."""
    _note_available(tx, before, -before.remaining if before.status == "available" else 0)
    _note_available(tx, after, after.remaining if after.status == "available" else 0)
    target = lot_item(after)
    actions: list[Action] = [
        LotModel.points.set(after.points),
        LotModel.remaining.set(after.remaining),
        LotModel.status.set(after.status),
    ]
    for attr in ("mature_shard", "mature_due", "expire_shard", "expire_due"):
        value = getattr(target, attr)
        model_attr = getattr(LotModel, attr)
        actions.append(model_attr.set(value) if value is not None else model_attr.remove())
    condition = (LotModel.status == before.status) & (LotModel.remaining == before.remaining)
    tx.update(LotModel(before.member_id, before.lot_id), actions=actions, condition=condition)


def add_lot_take(tx: TransactWrite, lot: Lot, points: int, exact: bool = False) -> None:
    """Spend `points` of an available lot (L10); the condition refuses an overdraft (`exact`: the
    lot must hold exactly `lot.remaining`, the state the caller expected without reading it)."""
    _note_available(tx, lot, -points)
    actions: list[Action] = [LotModel.remaining.add(-points)]
    if points == lot.remaining:
        # The lot is used up: drop it from the expiry work list.
        actions += [LotModel.expire_shard.remove(), LotModel.expire_due.remove()]
        condition = LotModel.remaining == points
    else:
        condition = (LotModel.remaining == lot.remaining) if exact else (LotModel.remaining >= points)
    condition &= LotModel.status == "available"
    tx.update(LotModel(lot.member_id, lot.lot_id), actions=actions, condition=condition)


def add_lot_delete(tx: TransactWrite, lot: Lot) -> None:
    _note_available(tx, lot, -lot.remaining if lot.status == "available" else 0)
    condition = (LotModel.status == lot.status) & (LotModel.remaining == lot.remaining)
    tx.delete(LotModel(lot.member_id, lot.lot_id), condition=condition)


def lots_of(member_id: str) -> list[Lot]:
    """Every lot of one member (a Query on the member's partition)."""
    return [to_lot(item) for item in LotModel.query(member_id, consistent_read=True)]


def open_lots_of(member_id: str) -> list[Lot]:
    """A member's lots that still hold points (pending or available); used-up and expired lots
    are filtered out by DynamoDB before they reach us."""
    condition = LotModel.status.is_in("pending", "available") & (LotModel.remaining > 0)
    return [to_lot(item) for item in LotModel.query(member_id, filter_condition=condition, consistent_read=True)]


def get_lot(member_id: str, lot_id: str) -> Lot | None:
    try:
        return to_lot(LotModel.get(member_id, lot_id, consistent_read=True))
    except DoesNotExist:
        return None


def due_to_mature(shard: int, today: date) -> Iterator[Lot]:
    """L6: pending lots of one shard whose matures_on is on or before today (GSI `maturing`)."""
    for item in LotModel.maturing.query(shard, LotModel.mature_due <= today.isoformat()):
        yield to_lot(item)


def due_to_expire(shard: int, today: date) -> Iterator[Lot]:
    """L7: lots of one shard with points left whose last valid day is before today (GSI `expiring`)."""
    for item in LotModel.expiring.query(shard, LotModel.expire_due < today.isoformat()):
        yield to_lot(item)


def due_to_mature_page(shard: int, today: date, limit: int, cursor: Any) -> tuple[list[Lot], Any]:
    """One page of `due_to_mature` and the key to continue from (None on the last page)."""
    query = LotModel.maturing.query(
        shard, LotModel.mature_due <= today.isoformat(), limit=limit, last_evaluated_key=cursor
    )
    lots = [to_lot(item) for item in query]
    return lots, query.last_evaluated_key


def due_to_expire_page(shard: int, today: date, limit: int, cursor: Any) -> tuple[list[Lot], Any]:
    """One page of `due_to_expire` and the key to continue from (None on the last page)."""
    query = LotModel.expiring.query(
        shard, LotModel.expire_due < today.isoformat(), limit=limit, last_evaluated_key=cursor
    )
    lots = [to_lot(item) for item in query]
    return lots, query.last_evaluated_key
