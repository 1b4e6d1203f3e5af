"""What the reconciliation and liability routes answer."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from chalicelib.contract import Answer, Day, Timestamp


class Mismatch(Answer):
    member_id: str
    kind: Literal["pending", "available", "lot_without_history"] = Field(
        description="pending/available: the balance (actual) is not the sum of the member's lots in that state "
        "(expected). lot_without_history: no history entry accounts for the lot (expected: its points, actual: 0)."
    )
    expected: int
    actual: int
    lot_id: str | None = None
    found_at: Timestamp


class ClaimMismatch(Answer):
    claim_number: str | None = Field(default=None, description="Absent on a batch_amount finding.")
    batch_id: str | None = Field(default=None, description="The payout batch the finding is about, if any.")
    kind: Literal[
        "claim_status_not_timeline",
        "claim_illegal_transition",
        "claim_not_in_batch",
        "claim_batch_status",
        "batch_amount",
    ] = Field(
        description="claim_status_not_timeline: the status (actual) is not the last timeline entry's (expected). "
        "claim_illegal_transition: the timeline moves from expected to actual, which the claim state machine does "
        "not allow. claim_not_in_batch: the claim is paid or scheduled (or names a batch) but that batch (expected) "
        "does not exist or does not list it. claim_batch_status: the claim's batch has status actual, expected for "
        "the claim's status. batch_amount: a scheduled or paid batch's total_cents (actual) is not the sum of its "
        "claims' rewards (expected)."
    )
    expected: str | int
    actual: str | int
    found_at: Timestamp


class LiabilityPoints(Answer):
    pending: int
    available: int
    debt: int
    outstanding: int = Field(description="pending + available")
    available_by_expiry_month: dict[str, int]


class LiabilityCoupons(Answer):
    """Issued coupons not yet redeemed nor expired, at face value."""

    issued_unredeemed: int
    value_cents: int


class LiabilityClaims(Answer):
    """Trade-in claims approved (or revised) and not yet paid, at their reward."""

    approved_unpaid: int
    value_cents: int


class LiabilityReport(Answer):
    date: Day
    complete: bool = Field(description="false while some shard of either night has not finished")
    points: LiabilityPoints
    cents_per_point: float
    value_cents: int = Field(description="The outstanding points valued at cents_per_point.")
    coupons: LiabilityCoupons
    claims: LiabilityClaims
    total_value_cents: int = Field(description="Points, coupons and claims together.")
    csv_url: str | None = Field(
        default=None, description="Presigned GET of reports/liability/<date>.csv, once complete."
    )
