"""PynamoDB models of the loyalty domain. `__all__` lists the models provisioning creates.

See docs/loyalty.md for the keys, indexes and the access pattern each one serves.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.constants import STREAM_NEW_IMAGE
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection, LocalSecondaryIndex
from pynamodb.models import Model

from chalicelib.config import settings
from chalicelib.db import table_name

__all__ = ["HistoryModel", "LotModel", "MemberModel", "ReceiptModel", "ReturnModel"]


class CardIndex(GlobalSecondaryIndex["MemberModel"]):
    """L4: find the member of a scanned loyalty card."""

    class Meta:
        index_name = "by_card"
        projection = KeysOnlyProjection()

    card_number = UnicodeAttribute(hash_key=True)


class EmailIndex(GlobalSecondaryIndex["MemberModel"]):
    """Customer care (L13): find members by their e-mail address, exact and case-insensitive."""

    class Meta:
        index_name = "by_email"
        projection = KeysOnlyProjection()

    email_key = UnicodeAttribute(hash_key=True)


class TouchedIndex(GlobalSecondaryIndex["MemberModel"]):
    """Nightly reconciliation: members by (shard, the day the ledger last changed them); sparse."""

    class Meta:
        index_name = "touched"
        projection = KeysOnlyProjection()

    touched_shard = NumberAttribute(hash_key=True)
    touched_on = UnicodeAttribute(range_key=True)


class MemberModel(Model):
    """A member with materialised balances, changed in the same transaction as the lots."""

    class Meta:
        table_name = table_name("loyalty-members")
        region = settings().aws_region

    member_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute()
    email_key = UnicodeAttribute(null=True)  # the e-mail address normalised for look-up (by_email)
    first_name = UnicodeAttribute()
    last_name = UnicodeAttribute()
    address = JSONAttribute(null=True)
    newsletter = BooleanAttribute(default=False)
    partner_data_sharing = BooleanAttribute(default=False)
    consent_awarded = BooleanAttribute(default=False)
    card_number = UnicodeAttribute()
    joined_on = UnicodeAttribute()
    status = UnicodeAttribute(default="active")
    merged_into = UnicodeAttribute(null=True)
    merge_result = JSONAttribute(null=True)  # L13: on a merged source, what the merge did (its retries answer it)
    pending = NumberAttribute(default=0)
    available = NumberAttribute(default=0)
    debt = NumberAttribute(default=0)
    # L12: available points per expiry date (YYYY-MM-DD -> points), kept by the same transactions
    # that change the lots (store.py), so the profile is one GetItem whatever the history.
    expiring: MapAttribute[str, Any] = MapAttribute(default=dict)
    by_card = CardIndex()
    by_email = EmailIndex()
    # set by every balance action of the ledger (store.py): the reconciliation's work list
    touched_shard = NumberAttribute(null=True)
    touched_on = UnicodeAttribute(null=True)
    touched = TouchedIndex()


class MaturingIndex(GlobalSecondaryIndex["LotModel"]):
    """L6: pending lots by (shard, matures_on); sparse, the keys are removed at maturation."""

    class Meta:
        index_name = "maturing"
        projection = AllProjection()

    mature_shard = NumberAttribute(hash_key=True)
    mature_due = UnicodeAttribute(range_key=True)


class ExpiringIndex(GlobalSecondaryIndex["LotModel"]):
    """L7: lots holding available points by (shard, expires_on); sparse, removed at zero."""

    class Meta:
        index_name = "expiring"
        projection = AllProjection()

    expire_shard = NumberAttribute(hash_key=True)
    expire_due = UnicodeAttribute(range_key=True)


class LotModel(Model):
    """One award of points (a receipt, the welcome, the marketing consent) and what remains of it."""

    class Meta:
        table_name = table_name("loyalty-lots")
        region = settings().aws_region

    member_id = UnicodeAttribute(hash_key=True)
    lot_id = UnicodeAttribute(range_key=True)
    source = UnicodeAttribute()
    kind = UnicodeAttribute()
    points = NumberAttribute()
    remaining = NumberAttribute()
    earned_on = UnicodeAttribute()
    matures_on = UnicodeAttribute()
    expires_on = UnicodeAttribute()
    status = UnicodeAttribute()
    receipt_id = UnicodeAttribute(null=True)
    mature_shard = NumberAttribute(null=True)
    mature_due = UnicodeAttribute(null=True)
    expire_shard = NumberAttribute(null=True)
    expire_due = UnicodeAttribute(null=True)
    maturing = MaturingIndex()
    expiring = ExpiringIndex()


class HistoryByTime(LocalSecondaryIndex["HistoryModel"]):
    """L12: a member's history, newest first."""

    class Meta:
        index_name = "by_time"
        projection = AllProjection()

    member_id = UnicodeAttribute(hash_key=True)
    at_key = UnicodeAttribute(range_key=True)


class HistoryModel(Model):
    """A ledger entry. `entry_id` is deterministic from its cause, so a replay cannot add it twice."""

    class Meta:
        table_name = table_name("loyalty-history")
        region = settings().aws_region
        stream_view_type = STREAM_NEW_IMAGE  # domain events out (chalicelib/outbound); entries are never changed

    member_id = UnicodeAttribute(hash_key=True)
    entry_id = UnicodeAttribute(range_key=True)
    at = UnicodeAttribute()
    at_key = UnicodeAttribute()
    type = UnicodeAttribute()
    points = NumberAttribute()
    cause = UnicodeAttribute()
    lots = JSONAttribute(null=True)
    reason = UnicodeAttribute(null=True)  # an adjustment's reason, for the back office
    fingerprint = UnicodeAttribute(null=True)  # an adjustment's request, to tell a replay from a conflict
    by_time = HistoryByTime()


class ReceiptsByMember(GlobalSecondaryIndex["ReceiptModel"]):
    """GET /members/me/receipts: a member's receipts, newest first; anonymous ones are absent."""

    class Meta:
        index_name = "by_member"
        projection = AllProjection()

    member_id = UnicodeAttribute(hash_key=True)
    purchased_at = UnicodeAttribute(range_key=True)


class ReceiptModel(Model):
    """A receipt as the store or webshop reported it, with what it earned and what came back."""

    class Meta:
        table_name = table_name("loyalty-receipts")
        region = settings().aws_region

    receipt_id = UnicodeAttribute(hash_key=True)
    member_id = UnicodeAttribute(null=True)
    channel = UnicodeAttribute()
    store_id = UnicodeAttribute(null=True)
    purchased_at = UnicodeAttribute()
    purchase_date = UnicodeAttribute()
    coupon_discount_cents = NumberAttribute(default=0)
    lines = JSONAttribute()
    returned = JSONAttribute(default=dict)
    points = NumberAttribute(default=0)
    matures_on = UnicodeAttribute()
    fingerprint = UnicodeAttribute()
    version = NumberAttribute(default=0)
    by_member = ReceiptsByMember()


class OwedReturnsIndex(GlobalSecondaryIndex["ReturnModel"]):
    """C8, T12: returns whose effects on coupons and trade-in are still owed, by (shard, since).

    Sparse: the keys are written with the return and removed by the write that marks its last
    owed effect done, so the nightly catch-up reads only returns that still owe something.
    """

    class Meta:
        index_name = "owed_effects"
        projection = KeysOnlyProjection()

    owed_shard = NumberAttribute(hash_key=True)
    owed_since = UnicodeAttribute(range_key=True)


class ReturnModel(Model):
    """A return, stored with its answer so that a replay of its return_id answers the same, and
    with the effects it owes other domains (written in the return's own ledger transaction)."""

    class Meta:
        table_name = table_name("loyalty-returns")
        region = settings().aws_region

    return_id = UnicodeAttribute(hash_key=True)
    receipt_id = UnicodeAttribute()
    fingerprint = UnicodeAttribute()
    returned_at = UnicodeAttribute()
    points_reversed = NumberAttribute(default=0)
    owed_effects = UnicodeSetAttribute(null=True)  # effect names still owed; gone when all are done
    coupons_restored = ListAttribute(of=UnicodeAttribute, null=True)  # C8, once `coupon_restore` is done
    claims_voided = ListAttribute(of=UnicodeAttribute, null=True)  # T12, once `claim_void` is done
    owed_shard = NumberAttribute(null=True)
    owed_since = UnicodeAttribute(null=True)
    owed = OwedReturnsIndex()
