"""The shared vocabulary of a sale (API.md "Receipt" and "Line"), used by every domain.

Loyalty owns receipts; coupons read baskets in the same shape; trade-in reads the receipt of the
new laptop through chalicelib.loyalty.earning.get_receipt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import Field, StrictInt

from chalicelib.body import Body

Channel = Literal["store", "webshop", "marketplace", "outlet", "phone_subscriptions"]
Kind = Literal["product", "service", "subscription", "insurance", "posa"]
Seller = Literal["retailer", "external"]


class LineIn(Body):
    line_id: str = Field(min_length=1, max_length=64)
    sku: str = Field(min_length=1, max_length=64)
    description: str = Field(max_length=500)
    brand: str = Field(max_length=100)
    category: str = Field(max_length=100)
    kind: Kind
    seller: Seller
    # Integer cents (G4), as JSON numbers: "100" or 1.5 is a 400, not coerced.
    unit_price_cents: StrictInt = Field(ge=0, le=100_000_000)
    quantity: StrictInt = Field(ge=1, le=10_000)

    def to_line(self) -> Line:
        return Line(**self.model_dump())


@dataclass(frozen=True)
class Line:
    line_id: str
    sku: str
    description: str
    brand: str
    category: str
    kind: Kind
    seller: Seller
    unit_price_cents: int
    quantity: int

    @property
    def total_cents(self) -> int:
        return self.unit_price_cents * self.quantity


@dataclass(frozen=True)
class Receipt:
    receipt_id: str
    channel: Channel
    purchased_at: datetime
    lines: tuple[Line, ...]
    member_id: str | None = None
    store_id: str | None = None
    coupon_discount_cents: int = 0
    # line_id -> quantity returned so far, over all returns of this receipt
    returned: dict[str, int] = field(default_factory=dict)

    @property
    def fully_returned(self) -> bool:
        return all(self.returned.get(line.line_id, 0) >= line.quantity for line in self.lines)

    def line(self, line_id: str) -> Line | None:
        return next((line for line in self.lines if line.line_id == line_id), None)
