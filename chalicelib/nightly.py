"""The nightly jobs, by name: what the schedules and the back office's catch-up route run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any


def nightly_loyalty(today: date) -> dict[str, Any]:
    """Mature (L6) and expire (L7) points, expire coupons (C2): everything due on or before `today`."""
    from chalicelib.coupons.jobs import expire_coupons
    from chalicelib.loyalty.jobs import run_nightly

    return {**run_nightly(today), "coupons": expire_coupons(today)}


def nightly_tradein(today: date) -> dict[str, Any]:
    """Trade-in deadlines (T7, T8, T10), payouts (T11) and due e-mails (T6)."""
    from chalicelib.tradein.jobs import run_nightly

    return run_nightly(today)


JOBS: dict[str, Callable[[date], dict[str, Any]]] = {
    "nightly_loyalty": nightly_loyalty,
    "nightly_tradein": nightly_tradein,
}
