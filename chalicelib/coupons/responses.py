"""What the coupon routes answer (API.md): the models the route builders fill and the OpenAPI
document is generated from."""

from __future__ import annotations

from pydantic import Field

from chalicelib.contract import Answer, Day
from chalicelib.coupons.rules import Reason, Status


class CouponOut(Answer):
    code: str = Field(
        description="14 characters of 23456789ABCDEFGHJKMNPQRSTVWXYZ: 13 random and a check character (Luhn mod 30). "
        "Input may be lower case and contain spaces or dashes.",
        examples=["7KQ4MZ9P2HXTRC"],
    )
    amount_cents: int = Field(examples=[2000])
    issued_on: Day
    expires_on: Day = Field(description="The last day on which the coupon can be used (1 year, C2).")
    status: Status


class Accepted(Answer):
    code: str
    amount_cents: int


class Rejected(Answer):
    code: str
    reason: Reason = Field(description="The first reason that applies, in this order.")


class ValidationOut(Answer):
    accepted: list[Accepted]
    rejected: list[Rejected]
    discount_cents: int


class RedemptionOut(Answer):
    receipt_id: str
    redeemed: list[str] = Field(description="The coupon codes redeemed.")
    discount_cents: int
