"""Event types between domains, as plain data below them (no behaviour, no imports of domains).

Loyalty records a return owing these effects; chalicelib.flows has coupons and trade-in react
through their own service functions, so no domain touches another's tables. Every reaction is
idempotent: a replayed return is handled again safely.
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
