"""Nightly work of the coupons domain."""

from datetime import date
from typing import Any


def expire_coupons(today: date) -> dict[str, Any]:
    """Mark coupons past their last valid day as expired (C2)."""
    return {"expired": 0}
