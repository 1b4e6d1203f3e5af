"""Builders of domain values shared by the tests of several domains."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from chalicelib.config import Settings
from chalicelib.coupons.rules import CouponPolicy
from chalicelib.coupons.service import policy_from as coupon_policy_from
from chalicelib.loyalty.accounts import policy_from as loyalty_policy_from
from chalicelib.loyalty.rules import LoyaltyPolicy
from chalicelib.sales import Line


def claim_policy(**changes: Any) -> Any:
    """The trade-in claim policy of the default `Settings`, with `changes` to the settings."""
    from chalicelib.config import Settings
    from chalicelib.tradein.policy import claim_policy as from_settings

    return from_settings(Settings(**changes))


def make_line(line_id: str = "1", price: int = 10_000, quantity: int = 1, **kw: Any) -> Line:
    """A retailer-sold product line (a laptop unless told otherwise)."""
    values: dict[str, Any] = {
        "line_id": line_id,
        "sku": f"SKU-{line_id}",
        "description": "item",
        "brand": "Acme",
        "category": "laptop",
        "kind": "product",
        "seller": "retailer",
        "unit_price_cents": price,
        "quantity": quantity,
    }
    values.update(kw)
    return Line(**values)


def loyalty_policy(**changes: Any) -> LoyaltyPolicy:
    """The programme's policy as `Settings` defaults it (G5), with `changes` to the settings."""
    return loyalty_policy_from(Settings(**changes))


def coupon_policy(**changes: Any) -> CouponPolicy:
    """The coupon policy as `Settings` defaults it (G5), with `changes` to the settings."""
    return coupon_policy_from(Settings(**changes))


def old_lots(member_id: str, n: int) -> None:
    """`n` lots of long-gone purchases (expired), the history a loyal member carries."""
    from chalicelib.loyalty.models import LotModel

    with LotModel.batch_write() as batch:
        for i in range(n):
            day = date(2010, 1, 1) + timedelta(days=i)
            batch.save(
                LotModel(
                    member_id,
                    f"receipt#old-{i}",
                    source="receipt",
                    kind="base",
                    points=100,
                    remaining=0,
                    earned_on=day.isoformat(),
                    matures_on=(day + timedelta(days=30)).isoformat(),
                    expires_on=(day + timedelta(days=730)).isoformat(),
                    status="expired",
                    receipt_id=f"old-{i}",
                )
            )
