"""PynamoDB models of the coupons domain. `__all__` lists the models provisioning creates.

Dates are stored as `YYYY-MM-DD` strings so that key conditions compare them as dates.
"""

from __future__ import annotations

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.constants import STREAM_NEW_AND_OLD_IMAGE
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.config import settings
from chalicelib.db import table_name

__all__ = ["CouponModel", "CouponRequestModel", "RedemptionModel"]


class MemberIndex(GlobalSecondaryIndex["CouponModel"]):
    """A member's coupons, newest last (GET /members/me/coupons, account merge)."""

    class Meta:
        index_name = "member-index"
        projection = AllProjection()

    member_id = UnicodeAttribute(hash_key=True)
    issued_at = UnicodeAttribute(range_key=True)


class ExpiryIndex(GlobalSecondaryIndex["CouponModel"]):
    """Sparse: only active coupons carry `expiry_shard`, so the nightly run queries
    `expiry_shard = S<n> AND expires_on < today` per shard and never scans (C2)."""

    class Meta:
        index_name = "expiry-index"
        projection = KeysOnlyProjection()

    expiry_shard = UnicodeAttribute(hash_key=True)
    expires_on = UnicodeAttribute(range_key=True)


class ChangedIndex(GlobalSecondaryIndex["CouponModel"]):
    """Points liability (issue 16): coupons by (shard, the day their status last changed), so the
    nightly `coupon_liability:<n>` unit reads only that day's issues, redemptions, restores and
    expiries. Same shards as the expiry index (`changed_shard` = n of `S<n>`)."""

    class Meta:
        index_name = "changed-index"
        projection = KeysOnlyProjection()

    changed_shard = NumberAttribute(hash_key=True)
    changed_on = UnicodeAttribute(range_key=True)


class CouponModel(Model):
    class Meta:
        table_name = table_name("coupons")
        region = settings().aws_region
        stream_view_type = STREAM_NEW_AND_OLD_IMAGE  # domain events out (chalicelib/outbound)

    code = UnicodeAttribute(hash_key=True)
    member_id = UnicodeAttribute()
    amount_cents = NumberAttribute()
    points = NumberAttribute()
    issued_at = UnicodeAttribute()
    issued_on = UnicodeAttribute()
    expires_on = UnicodeAttribute()
    status = UnicodeAttribute()  # active | used | expired
    expiry_shard = UnicodeAttribute(null=True)  # set only while active (sparse index)
    redeemed_receipt_id = UnicodeAttribute(null=True)
    redeemed_at = UnicodeAttribute(null=True)
    restored_at = UnicodeAttribute(null=True)
    expired_on = UnicodeAttribute(null=True)
    transferred_from = UnicodeAttribute(null=True)
    changed_shard = NumberAttribute(null=True)
    changed_on = UnicodeAttribute(null=True)

    member_index = MemberIndex()
    expiry_index = ExpiryIndex()
    changed_index = ChangedIndex()


class CouponRequestModel(Model):
    """One conversion request per `member_id#Idempotency-Key`, written in the conversion's
    transaction: a retry finds it and gets the same coupon, another body gets a 409."""

    class Meta:
        table_name = table_name("coupon-requests")
        region = settings().aws_region

    request_key = UnicodeAttribute(hash_key=True)
    request_hash = UnicodeAttribute()
    code = UnicodeAttribute()
    created_at = UnicodeAttribute()


class RedemptionModel(Model):
    """One redemption per order (`receipt_id`), written in the same transaction as the coupons'
    status change (C7), and marked once when a return restores its coupons (C8)."""

    class Meta:
        table_name = table_name("coupon-redemptions")
        region = settings().aws_region

    receipt_id = UnicodeAttribute(hash_key=True)
    member_id = UnicodeAttribute()
    request_hash = UnicodeAttribute()
    codes = ListAttribute(of=UnicodeAttribute)
    discount_cents = NumberAttribute()
    redeemed_at = UnicodeAttribute()
    restored_by_return_id = UnicodeAttribute(null=True)
    restored_at = UnicodeAttribute(null=True)
