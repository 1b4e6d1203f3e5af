"""What the loyalty routes answer (API.md "Members", "Store systems", "Members (customer care)"):
the models the route builders fill and the OpenAPI document is generated from."""

from __future__ import annotations

from pydantic import Field

from chalicelib.contract import Answer, Day, Timestamp
from chalicelib.loyalty.rules import EntryType


class AddressOut(Answer):
    street: str
    house_number: int
    postcode: str
    city: str
    country: str
    house_number_suffix: str | None


class Expiring(Answer):
    points: int
    expires_on: Day


class Points(Answer):
    pending: int = Field(description="Points in the 30-day return period (L6).")
    available: int = Field(description="Redeemable points; never negative (L11).")
    debt: int = Field(description="Points clawed back after a return that were already spent (L11).")
    expiring: list[Expiring] = Field(description="Available points expiring within 90 days, per last valid day (L12).")


class Profile(Answer):
    member_id: str
    email: str
    first_name: str
    last_name: str
    address: AddressOut | None
    newsletter: bool
    partner_data_sharing: bool
    card_number: str = Field(description="16 random digits, printed as QR/barcode on the card (L4).")
    joined_on: Day
    points: Points


class ReceiptResult(Answer):
    receipt_id: str
    member_id: str | None
    points: int
    matures_on: Day = Field(description="The purchase date + 30 days (L6).")


class ReceiptSummary(Answer):
    receipt_id: str
    channel: str
    store_id: str | None
    purchased_at: Timestamp
    total_cents: int
    points: int
    matures_on: Day
    returned: dict[str, int] = Field(description="line_id -> quantity returned")


class HistoryEntry(Answer):
    at: Timestamp
    type: EntryType
    points: int = Field(description="Signed change; `matured` shows the points that became available.")
    cause: str = Field(examples=["receipt:R-1"])


class ReturnResult(Answer):
    points_reversed: int
    coupons_restored: list[str] = Field(description="Coupon codes (C8).")
    claims_voided: list[str] = Field(description="Claim numbers (T12).")


class MergeResult(Answer):
    target_member_id: str
    source_member_id: str
    lots_moved: int
    receipts_moved: int
    history_copied: int
    coupons_moved: list[str]


class Adjustment(Answer):
    adjustment_id: str
    member_id: str
    points: int
    reason: str
    at: Timestamp
    cause: str = Field(description="`adjustment:{adjustment_id}`, as the history shows it (L12).")
