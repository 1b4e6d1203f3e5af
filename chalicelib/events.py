"""In-process domain events between domains, dispatched in this one place.

Loyalty publishes; coupons and trade-in react through their own service functions, so no domain
touches another's tables. Every reaction is idempotent: a replayed return publishes again safely.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.sales import Receipt


@dataclass(frozen=True)
class ReceiptReturned:
    receipt: Receipt  # with `returned` already including this return
    return_id: str
    returned_at: datetime


@dataclass(frozen=True)
class ReturnEffects:
    coupons_restored: list[str]
    claims_voided: list[str]


def receipt_returned(event: ReceiptReturned) -> ReturnEffects:
    """Tell coupons (C8) and trade-in (T12) that (part of) a receipt came back."""
    from chalicelib.coupons.service import restore_for_return
    from chalicelib.tradein.service import void_for_return

    return ReturnEffects(coupons_restored=restore_for_return(event), claims_voided=void_for_return(event))
