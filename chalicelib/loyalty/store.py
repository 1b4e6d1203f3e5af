"""Every query and transaction of the loyalty domain; returns the rules' dataclasses.

Ledger writes are composed by the service from the `add_*` helpers below inside one
`transaction()`: lot changes, balance changes and history entries commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib import clock
from chalicelib.address import Address
from chalicelib.clock import local_date
from chalicelib.config import settings
from chalicelib.db import batch_get, connection, set_value
from chalicelib.loyalty.models import HistoryModel, LotModel, MemberModel, ReceiptModel, ReturnModel
from chalicelib.loyalty.rules import (
    Balance,
    LedgerEntry,
    Lot,
    Member,
    StoredReceipt,
    StoredReturn,
    shard_of,
)
from chalicelib.sales import Line, Receipt

__all__ = ["TransactWriteError"]


# --- conversions ---------------------------------------------------------------------------


def _member(item: MemberModel) -> Member:
    return Member(
        member_id=item.member_id,
        email=item.email,
        first_name=item.first_name,
        last_name=item.last_name,
        address=Address(**item.address) if item.address else None,
        newsletter=bool(item.newsletter),
        partner_data_sharing=bool(item.partner_data_sharing),
        card_number=item.card_number,
        joined_on=date.fromisoformat(item.joined_on),
        balance=Balance(pending=int(item.pending), available=int(item.available), debt=int(item.debt)),
        status=item.status,  # type: ignore[arg-type]
        merged_into=item.merged_into,
        consent_awarded=bool(item.consent_awarded),
    )


def _lot(item: LotModel) -> Lot:
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


def _lot_item(lot: Lot) -> LotModel:
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


def _entry(item: HistoryModel) -> LedgerEntry:
    return LedgerEntry(
        member_id=item.member_id,
        entry_id=item.entry_id,
        at=datetime.fromisoformat(item.at),
        type=item.type,  # type: ignore[arg-type]
        points=int(item.points),
        cause=item.cause,
    )


# --- transactions --------------------------------------------------------------------------


@contextmanager
def transaction() -> Iterator[TransactWrite]:
    """One DynamoDB transaction (at most 100 actions, never two on one item)."""
    with TransactWrite(connection=connection()) as tx:
        yield tx


def _note_available(tx: TransactWrite, lot: Lot, points: int) -> None:
    """L12: `points` more (or fewer) available points expiring on the lot's date, carried onto the
    member item by the member's action in the same transaction (add_balance_change, add_member_put).
    Lot actions must therefore come before the member's action in a transaction."""
    if not points:
        return
    if lot.member_id in tx.__dict__.setdefault("_expiring_written", set()):
        raise RuntimeError("a lot action after its member's balance action: the expiring summary would miss it")
    per_day = tx.__dict__.setdefault("_expiring", {}).setdefault(lot.member_id, {})
    key = lot.expires_on.isoformat()
    per_day[key] = per_day.get(key, 0) + points


def _expiring_changes(tx: TransactWrite, member_id: str) -> dict[str, int]:
    tx.__dict__.setdefault("_expiring_written", set()).add(member_id)
    return dict(tx.__dict__.setdefault("_expiring", {}).pop(member_id, {}))


def _expiring_actions(tx: TransactWrite, member_id: str) -> list[Action]:
    """The member item's `expiring` map follows the lots; a past date is dropped (never shown again)."""
    today = clock.today().isoformat()
    actions: list[Action] = []
    for day, points in sorted(_expiring_changes(tx, member_id).items()):
        path = Path(["expiring", day])
        if day < today:
            actions.append(path.remove())
        elif points:
            actions.append(path.set((path | 0) + points))
    return actions


def add_member_put(tx: TransactWrite, member: Member) -> None:
    today = clock.today().isoformat()
    expiring = {day: n for day, n in _expiring_changes(tx, member.member_id).items() if n > 0 and day >= today}
    item = MemberModel(
        member.member_id,
        email=member.email,
        email_key=email_key(member.email),
        first_name=member.first_name,
        last_name=member.last_name,
        address=asdict(member.address) if member.address else None,
        newsletter=member.newsletter,
        partner_data_sharing=member.partner_data_sharing,
        consent_awarded=member.consent_awarded,
        card_number=member.card_number,
        joined_on=member.joined_on.isoformat(),
        status=member.status,
        pending=member.balance.pending,
        available=member.balance.available,
        debt=member.balance.debt,
        expiring=expiring,
        touched_shard=_touched_shard(member.member_id),
        touched_on=today,
    )
    tx.save(item, condition=MemberModel.member_id.does_not_exist())


def _touched_shard(member_id: str) -> int:
    return shard_of(member_id, settings().reconciliation_shards)


def _touched(member_id: str) -> list[Action]:
    """The member is on tonight's reconciliation list (GSI `touched`, chalicelib/reconciliation)."""
    return [
        MemberModel.touched_shard.set(_touched_shard(member_id)),
        MemberModel.touched_on.set(clock.today().isoformat()),
    ]


def add_balance_change(
    tx: TransactWrite,
    member_id: str,
    pending: int = 0,
    available: int = 0,
    debt: int = 0,
    expect_debt: int | None = None,
    statuses: tuple[str, ...] = ("active",),
    extra: list[Action] | None = None,
    extra_condition: Condition | None = None,
) -> None:
    """Move the member's materialised balances (and, L12, its expiring summary by what the lot
    actions before it changed); conditions keep the balances from going negative."""
    actions: list[Action] = [*(extra or []), *_expiring_actions(tx, member_id)]
    condition: Condition = MemberModel.status.is_in(*statuses)
    if pending:
        actions.append(MemberModel.pending.add(pending))
        if pending < 0:
            condition &= MemberModel.pending >= -pending
    if available:
        actions.append(MemberModel.available.add(available))
        if available < 0:
            condition &= MemberModel.available >= -available
    if debt:
        actions.append(MemberModel.debt.add(debt))
    if expect_debt is not None:
        condition &= MemberModel.debt == expect_debt
    if extra_condition is not None:
        condition &= extra_condition
    if not actions:
        tx.condition_check(MemberModel, member_id, condition=condition)
        return
    tx.update(MemberModel(member_id), actions=[*actions, *_touched(member_id)], condition=condition)


def add_lot_put(tx: TransactWrite, lot: Lot) -> None:
    """A new lot; its deterministic id makes a replay fail instead of awarding twice (L8, L9)."""
    _note_available(tx, lot, lot.remaining if lot.status == "available" else 0)
    tx.save(_lot_item(lot), condition=LotModel.lot_id.does_not_exist())


def add_lot_change(tx: TransactWrite, before: Lot, after: Lot) -> None:
    """Move a lot from the state we read to a new one, or fail if someone moved it first."""
    _note_available(tx, before, -before.remaining if before.status == "available" else 0)
    _note_available(tx, after, after.remaining if after.status == "available" else 0)
    target = _lot_item(after)
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


def add_lot_take(tx: TransactWrite, lot: Lot, points: int) -> None:
    """Spend `points` of an available lot (L10); the condition refuses an overdraft."""
    _note_available(tx, lot, -points)
    actions: list[Action] = [LotModel.remaining.add(-points)]
    if points == lot.remaining:
        # The lot is used up: drop it from the expiry work list.
        actions += [LotModel.expire_shard.remove(), LotModel.expire_due.remove()]
        condition = LotModel.remaining == points
    else:
        condition = LotModel.remaining >= points
    condition &= LotModel.status == "available"
    tx.update(LotModel(lot.member_id, lot.lot_id), actions=actions, condition=condition)


def add_lot_delete(tx: TransactWrite, lot: Lot) -> None:
    _note_available(tx, lot, -lot.remaining if lot.status == "available" else 0)
    condition = (LotModel.status == lot.status) & (LotModel.remaining == lot.remaining)
    tx.delete(LotModel(lot.member_id, lot.lot_id), condition=condition)


def email_key(email: str) -> str:
    """An e-mail address as the look-up compares it: exact but for case and surrounding blanks."""
    return email.strip().lower()


def add_entry(
    tx: TransactWrite,
    entry: LedgerEntry,
    lots: dict[str, int] | None = None,
    reason: str | None = None,
    fingerprint: str | None = None,
) -> None:
    """A history entry; its deterministic id makes a replayed transaction fail as a whole."""
    item = _entry_item(entry, lots)
    item.reason, item.fingerprint = reason, fingerprint
    tx.save(item, condition=HistoryModel.entry_id.does_not_exist())


def _entry_item(entry: LedgerEntry, lots: dict[str, int] | None = None) -> HistoryModel:
    at_utc = entry.at.astimezone(UTC).isoformat(timespec="microseconds")
    return HistoryModel(
        entry.member_id,
        entry.entry_id,
        at=entry.at.isoformat(timespec="microseconds"),
        at_key=f"{at_utc}#{entry.entry_id}",
        type=entry.type,
        points=entry.points,
        cause=entry.cause,
        lots=lots,
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
    try:
        ReceiptModel(receipt_id).update(
            actions=[ReceiptModel.member_id.set(target), ReceiptModel.version.add(1)],
            condition=ReceiptModel.member_id == source,
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


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


def add_member_flags(
    tx: TransactWrite, member_id: str, actions: list[Action], condition: Condition | None = None
) -> None:
    tx.update(MemberModel(member_id), actions=actions, condition=condition)


# --- reads ---------------------------------------------------------------------------------


def get_member(member_id: str) -> Member | None:
    try:
        return _member(MemberModel.get(member_id, consistent_read=True))
    except DoesNotExist:
        return None


def get_member_and_expiring(member_id: str) -> tuple[Member, dict[date, int]] | None:
    """L12: the member and its available points per expiry date, in one GetItem."""
    try:
        item = MemberModel.get(member_id, consistent_read=True)
    except DoesNotExist:
        return None
    per_day = item.expiring.as_dict() if item.expiring is not None else {}
    return _member(item), {date.fromisoformat(day): int(n) for day, n in per_day.items()}


def get_receipt_and_member(
    receipt_id: str, member_id: str | None
) -> tuple[tuple[StoredReceipt, int] | None, Member | None]:
    """A receipt with its version, and the member it names, in one BatchGetItem."""
    keys: list[tuple[Any, Any]] = [(ReceiptModel, receipt_id)]
    if member_id is not None:
        keys.append((MemberModel, member_id))
    items = batch_get(keys)
    receipt = (_receipt(items[0]), int(items[0].version)) if items[0] is not None else None
    member = _member(items[1]) if member_id is not None and items[1] is not None else None
    return receipt, member


def member_by_card(card_number: str) -> str | None:
    """L4: the member id of a loyalty card (GSI by_card)."""
    for item in MemberModel.by_card.query(card_number, limit=1):
        return str(item.member_id)
    return None


def members_by_email(email: str) -> list[str]:
    """Customer care: ids of the members with this e-mail address (GSI by_email)."""
    return [str(item.member_id) for item in MemberModel.by_email.query(email_key(email))]


def get_entry(member_id: str, entry_id: str) -> tuple[LedgerEntry, str | None, str | None] | None:
    """One history entry with its reason and fingerprint (an adjustment's replay check)."""
    try:
        item = HistoryModel.get(member_id, entry_id, consistent_read=True)
    except DoesNotExist:
        return None
    return _entry(item), item.reason, item.fingerprint


def lots_of(member_id: str) -> list[Lot]:
    """Every lot of one member (a Query on the member's partition)."""
    return [_lot(item) for item in LotModel.query(member_id, consistent_read=True)]


def open_lots_of(member_id: str) -> list[Lot]:
    """A member's lots that still hold points (pending or available); used-up and expired lots
    are filtered out by DynamoDB before they reach us."""
    condition = LotModel.status.is_in("pending", "available") & (LotModel.remaining > 0)
    return [_lot(item) for item in LotModel.query(member_id, filter_condition=condition, consistent_read=True)]


def get_lot(member_id: str, lot_id: str) -> Lot | None:
    try:
        return _lot(LotModel.get(member_id, lot_id, consistent_read=True))
    except DoesNotExist:
        return None


def due_to_mature(shard: int, today: date) -> Iterator[Lot]:
    """L6: pending lots of one shard whose matures_on is on or before today (GSI `maturing`)."""
    for item in LotModel.maturing.query(shard, LotModel.mature_due <= today.isoformat()):
        yield _lot(item)


def due_to_expire(shard: int, today: date) -> Iterator[Lot]:
    """L7: lots of one shard with points left whose last valid day is before today (GSI `expiring`)."""
    for item in LotModel.expiring.query(shard, LotModel.expire_due < today.isoformat()):
        yield _lot(item)


def due_to_mature_page(shard: int, today: date, limit: int, cursor: Any) -> tuple[list[Lot], Any]:
    """One page of `due_to_mature` and the key to continue from (None on the last page)."""
    query = LotModel.maturing.query(
        shard, LotModel.mature_due <= today.isoformat(), limit=limit, last_evaluated_key=cursor
    )
    lots = [_lot(item) for item in query]
    return lots, query.last_evaluated_key


def due_to_expire_page(shard: int, today: date, limit: int, cursor: Any) -> tuple[list[Lot], Any]:
    """One page of `due_to_expire` and the key to continue from (None on the last page)."""
    query = LotModel.expiring.query(
        shard, LotModel.expire_due < today.isoformat(), limit=limit, last_evaluated_key=cursor
    )
    lots = [_lot(item) for item in query]
    return lots, query.last_evaluated_key


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
    page, last = _page(list(query), limit, ("receipt_id", "member_id", "purchased_at"))
    return [_receipt(item) for item in page], last


def all_receipt_ids_of(member_id: str) -> list[str]:
    return [str(item.receipt_id) for item in ReceiptModel.by_member.query(member_id)]


def history_of(member_id: str, limit: int, cursor: dict[str, Any] | None) -> tuple[list[LedgerEntry], Any]:
    """L12: one page of a member's history, newest first (LSI by_time)."""
    query = HistoryModel.by_time.query(member_id, scan_index_forward=False, limit=limit + 1, last_evaluated_key=cursor)
    page, last = _page(list(query), limit, ("member_id", "entry_id", "at_key"))
    return [_entry(item) for item in page], last


def _page(items: list[Any], limit: int, keys: tuple[str, ...]) -> tuple[list[Any], dict[str, Any] | None]:
    """One page read with one item more than asked: a key to continue from only when more exist.

    DynamoDB hands out a LastEvaluatedKey whenever a page is full, even when nothing follows; the
    contract wants `next_cursor` null on the last page. All these index keys are strings.
    """
    if len(items) <= limit:
        return items, None
    last = items[limit - 1]
    return items[:limit], {name: {"S": getattr(last, name)} for name in keys}


def all_history_of(member_id: str) -> list[tuple[LedgerEntry, dict[str, int] | None]]:
    return [(_entry(item), item.lots) for item in HistoryModel.query(member_id)]


def put_history_copy(entry: LedgerEntry, lots: dict[str, int] | None) -> bool:
    """Copy one entry (merge); False when it was copied before."""
    try:
        _entry_item(entry, lots).save(condition=HistoryModel.entry_id.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


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
    try:
        ReturnModel(return_id).update(actions=actions, condition=condition)
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def returns_owing(shard: int, until: datetime) -> Iterator[str]:
    """C8, T12: ids of returns of one shard recorded until `until` that still owe effects
    (sparse GSI `owed_effects`, keys only: the caller re-reads each base item)."""
    for item in ReturnModel.owed.query(shard, ReturnModel.owed_since <= _utc(until)):
        yield str(item.return_id)


def mark_merging(source_id: str, target_id: str) -> bool:
    """L13: freeze the source account for the merge (its routes answer 410 from now on)."""
    try:
        MemberModel(source_id).update(
            actions=[MemberModel.status.set("merging"), MemberModel.merged_into.set(target_id)],
            condition=MemberModel.status == "active",
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def close_merged(source_id: str, result: dict[str, Any]) -> bool:
    """L13: the merge is done, so the source must hold nothing any more; False if it still does.

    `result` (what the merge did) is kept on the source for the merge's retries to answer.
    """
    try:
        MemberModel(source_id).update(
            actions=[MemberModel.status.set("merged"), set_value(MemberModel.merge_result, result)],
            condition=(MemberModel.status == "merging")
            & (MemberModel.pending == 0)
            & (MemberModel.available == 0)
            & (MemberModel.debt == 0),
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return False
    return True


def merge_result_of(source_id: str) -> dict[str, Any] | None:
    """L13: what the merge of this (merged) source account did, as `close_merged` kept it."""
    try:
        item = MemberModel.get(source_id, consistent_read=True, attributes_to_get=["merge_result"])
    except DoesNotExist:
        return None
    return item.merge_result if isinstance(item.merge_result, dict) else None
