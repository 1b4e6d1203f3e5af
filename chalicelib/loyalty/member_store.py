"""The members table of the loyalty ledger: conversions, the member's actions in a ledger
transaction (balances, L12's expiring summary, the reconciliation list), reads and the merge's
single-item writes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import date
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib import clock, db
from chalicelib.address import Address
from chalicelib.config import settings
from chalicelib.db import set_value
from chalicelib.loyalty.lot_store import expiring_changes
from chalicelib.loyalty.models import MemberModel
from chalicelib.loyalty.rules import Balance, Member, shard_of


def to_member(item: MemberModel) -> Member:
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


def _expiring_actions(tx: TransactWrite, member_id: str) -> list[Action]:
    """The member item's `expiring` map follows the lots; a past date is dropped (never shown again)."""
    today = clock.today().isoformat()
    actions: list[Action] = []
    for day, points in sorted(expiring_changes(tx, member_id).items()):
        path = Path(["expiring", day])
        if day < today:
            actions.append(path.remove())
        elif points:
            actions.append(path.set((path | 0) + points))
    return actions


def add_member_put(tx: TransactWrite, member: Member) -> None:
    today = clock.today().isoformat()
    expiring = {day: n for day, n in expiring_changes(tx, member.member_id).items() if n > 0 and day >= today}
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
    profile: Mapping[str, Any] | None = None,
    consent_award: bool = False,
) -> None:
    """Move the member's materialised balances (and, L12, its expiring summary by what the lot
    actions before it changed); conditions keep the balances from going negative. `profile`
    changes profile fields in the same action; `consent_award` sets L9's once-ever flag, on
    condition that it was not set yet."""
    actions: list[Action] = [*_profile_actions(profile or {}), *_expiring_actions(tx, member_id)]
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
    if consent_award:
        actions.append(MemberModel.consent_awarded.set(True))
        condition &= MemberModel.consent_awarded == False  # noqa: E712 (a DynamoDB condition)
    if not actions:
        tx.condition_check(MemberModel, member_id, condition=condition)
        return
    tx.update(MemberModel(member_id), actions=[*actions, *_touched(member_id)], condition=condition)


def email_key(email: str) -> str:
    """An e-mail address as the look-up compares it: exact but for case and surrounding blanks."""
    return email.strip().lower()


PROFILE_FIELDS = ("first_name", "last_name", "address", "newsletter", "partner_data_sharing")


def _profile_actions(changes: Mapping[str, Any]) -> list[Action]:
    """L14: the member item's updates for the changed profile fields (an address of None removes it)."""
    return [set_value(getattr(MemberModel, name), changes[name]) for name in PROFILE_FIELDS if name in changes]


def add_profile_change(tx: TransactWrite, member_id: str, changes: Mapping[str, Any]) -> None:
    """L14: change profile fields of an active member (the transaction fails on any other)."""
    tx.update(MemberModel(member_id), actions=_profile_actions(changes), condition=MemberModel.status == "active")


def get_member(member_id: str) -> Member | None:
    try:
        return to_member(MemberModel.get(member_id, consistent_read=True))
    except DoesNotExist:
        return None


def get_member_and_expiring(member_id: str) -> tuple[Member, dict[date, int]] | None:
    """L12: the member and its available points per expiry date, in one GetItem."""
    try:
        item = MemberModel.get(member_id, consistent_read=True)
    except DoesNotExist:
        return None
    per_day = item.expiring.as_dict() if item.expiring is not None else {}
    return to_member(item), {date.fromisoformat(day): int(n) for day, n in per_day.items()}


def member_by_card(card_number: str) -> str | None:
    """L4: the member id of a loyalty card (GSI by_card)."""
    for item in MemberModel.by_card.query(card_number, limit=1):
        return str(item.member_id)
    return None


def members_by_email(email: str) -> list[str]:
    """Customer care: ids of the members with this e-mail address (GSI by_email)."""
    return [str(item.member_id) for item in MemberModel.by_email.query(email_key(email))]


def mark_merging(source_id: str, target_id: str) -> bool:
    """L13: freeze the source account for the merge (its routes answer 410 from now on)."""
    return db.applied(
        lambda: MemberModel(source_id).update(
            actions=[MemberModel.status.set("merging"), MemberModel.merged_into.set(target_id)],
            condition=MemberModel.status == "active",
        )
    )


def close_merged(source_id: str, result: dict[str, Any]) -> bool:
    """L13: the merge is done, so the source must hold nothing any more; False if it still does.

    `result` (what the merge did) is kept on the source for the merge's retries to answer.
    """
    return db.applied(
        lambda: MemberModel(source_id).update(
            actions=[MemberModel.status.set("merged"), set_value(MemberModel.merge_result, result)],
            condition=(MemberModel.status == "merging")
            & (MemberModel.pending == 0)
            & (MemberModel.available == 0)
            & (MemberModel.debt == 0),
        )
    )


def merge_result_of(source_id: str) -> dict[str, Any] | None:
    """L13: what the merge of this (merged) source account did, as `close_merged` kept it."""
    try:
        item = MemberModel.get(source_id, consistent_read=True, attributes_to_get=["merge_result"])
    except DoesNotExist:
        return None
    return item.merge_result if isinstance(item.merge_result, dict) else None
