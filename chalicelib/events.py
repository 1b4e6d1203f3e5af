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


# What a return owes other domains, by name: recorded with the return in its ledger transaction,
# done in the request and, when that died after the transaction, by the nightly catch-up.
COUPON_RESTORE = "coupon_restore"  # C8
CLAIM_VOID = "claim_void"  # T12 (the void e-mail goes into the claim's outbox in the same write)
RETURN_EFFECTS: tuple[str, ...] = (COUPON_RESTORE, CLAIM_VOID)


def return_effect(name: str, event: ReceiptReturned) -> list[str]:
    """Do one owed effect of a return; each is idempotent per return_id and answers the same on
    every call: the restored coupon codes (C8) or the voided claim numbers (T12)."""
    if name == COUPON_RESTORE:
        from chalicelib.coupons.service import restore_for_return

        return restore_for_return(event)
    if name == CLAIM_VOID:
        from chalicelib.tradein.service import void_for_return

        return void_for_return(event)
    raise ValueError(f"unknown return effect {name!r}")
