"""The nights tests run in process, through the registry's one runner (chalicelib.nightly.run):
each names the part of a job's plan it means."""

from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib import nightly

LEDGER = ("mature", "expire", "returns")  # maturation with debt settlement, expiry, owed returns


def loyalty_night(day: date) -> dict[str, Any]:
    """The ledger's night (L6, L7, L11) and what returns still owe (C8, T12)."""
    return nightly.run("nightly_loyalty", day, kinds=LEDGER)


def coupon_expiry(day: date) -> dict[str, Any]:
    """The coupon expiry units of the loyalty night (C2)."""
    return nightly.run("nightly_loyalty", day, kinds=("coupons",))


def tradein_night(day: date) -> dict[str, Any]:
    """The trade-in deadlines, payouts and owed e-mails (T6-T11), without issue 16's checks."""
    return nightly.run("nightly_tradein", day, kinds=nightly.TRADEIN_STEPS)
