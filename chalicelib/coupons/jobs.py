"""Nightly work of the coupons domain, run by `nightly_loyalty` (chalicelib.nightly)."""

from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.coupons import service
from chalicelib.observability import logger


def expire_coupons(today: date) -> dict[str, Any]:
    """Mark coupons whose last valid day is before `today` as expired (C2); safe to rerun."""
    summary = service.expire_due(today)
    logger.info("coupons expired", extra={"as_of": today.isoformat(), **summary})
    return summary
