"""The coupon routes as contract data (chalicelib.openapi turns them into the document)."""

from __future__ import annotations

from chalicelib.contract import PAGED, Operation, Page, Param
from chalicelib.coupons import api
from chalicelib.coupons import responses as r

TAG = "coupons"
GONE = "ACCOUNT_MERGED (L13), checked before the Idempotency-Key, query and body."

OPERATIONS = (
    Operation(
        "POST", "/members/me/coupons", "convertPoints", "Convert points into a coupon (C1, C2, L10)", TAG,
        {
            201: (r.CouponOut, "The new coupon."),
            200: (r.CouponOut, "Replay of an earlier request with this Idempotency-Key and body; the same coupon."),
        },
        ("member",), api.ConvertIn,
        params=(
            Param(
                "Idempotency-Key", {"type": "string", "minLength": 1, "maxLength": api.IDEMPOTENCY_KEY_MAX}, True,
                "Client-chosen key of this conversion, scoped to the member.", "header",
            ),
        ),
        errors={
            400: "IDEMPOTENCY_KEY_REQUIRED, INVALID_IDEMPOTENCY_KEY, INVALID_REQUEST", 404: "MEMBER_NOT_FOUND",
            409: "IDEMPOTENCY_KEY_REUSED", 410: GONE, 422: "INSUFFICIENT_POINTS, UNKNOWN_TIER",
        },
        description="The points are spent from the soonest-expiring lots in the transaction that creates the coupon.",
    ),
    Operation(
        "GET", "/members/me/coupons", "listCoupons", "The member's own coupons with their status (C2, C3)", TAG,
        {200: (Page[r.CouponOut], "The member's coupons in issue order.")}, ("member",), params=PAGED,
        errors={400: "INVALID_LIMIT, INVALID_CURSOR", 404: "MEMBER_NOT_FOUND", 410: GONE},
        description="A coupon past its `expires_on` reads as `expired` even before the nightly run marked it.",
    ),
    Operation(
        "POST", "/coupons/validate", "validateCoupons", "Check codes against a basket (C3-C6); changes nothing", TAG,
        {200: (r.ValidationOut, "Every code, accepted or rejected with its reason; codes echoed normalised.")},
        ("pos",), api.ValidateIn,
    ),
    Operation(
        "POST", "/coupons/redeem", "redeemCoupons", "Redeem coupons for one order, all or nothing (C7)", TAG,
        {200: (r.RedemptionOut, "Every code redeemed (also on replay).")}, ("pos",), api.RedeemIn,
        errors={
            409: "COUPON_NOT_REDEEMABLE (nothing redeemed; `details.rejected` lists the rejections), "
            "REDEMPTION_CONFLICT (another body for this receipt_id)",
        },
    ),
)  # fmt: skip
