"""Nightly work of the coupons domain: a unit of `nightly_loyalty` (chalicelib.nightly)."""

from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.coupons import service
from chalicelib.observability import MetricUnit, metrics


def expire_coupons_page(shard: int, today: date, cursor: Any, limit: int) -> tuple[dict[str, Any], Any]:
    """One page of one shard of coupon expiry (C2), a unit of the nightly fan-out."""
    summary, next_cursor = service.expire_page(shard, today, cursor, limit)
    metrics.add_metric(name="CouponsExpired", unit=MetricUnit.Count, value=summary["coupons_expired"])
    return summary, next_cursor
