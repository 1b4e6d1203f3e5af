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


class LiabilityPoints(Answer):
    pending: int
    available: int
    debt: int
    outstanding: int = Field(description="pending + available")
    available_by_expiry_month: dict[str, int]


class LiabilityReport(Answer):
    date: Day
    complete: bool = Field(description="false while some shard has not finished")
    points: LiabilityPoints
    cents_per_point: float
    value_cents: int
    csv_url: str | None = Field(
        default=None, description="Presigned GET of reports/liability/<date>.csv, once complete."
    )
