"""The nightly claim reconciliation and the coupon and claim parts of the liability (issue 16).

- `reconcile_claims:<n>` (last units of `nightly_tradein`, after the batches are settled): every
  claim written on the days checked (rules.days_checked; index `touched_index`) is compared with
  its timeline and its payout batch, and each batch those claims name with its claims' rewards. A
  mismatch is recorded with the members' (GET /backoffice/reconciliation?date=), counted in the
  same `ReconciliationMismatch` metric and listed in the run's failures; nothing is repaired.
  The same read moves the claim's share of the liability (approved, not paid).
- `coupon_liability:<n>` (after `coupons:<n>` has expired the night's coupons): every coupon whose
  status changed on the days checked (index `changed-index`) moves its share (issued, unredeemed).

Both read only what the index lists for the days: cost follows the day's activity, never a scan.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.coupons import store as coupon_store
from chalicelib.observability import MetricUnit, logger, metrics
from chalicelib.reconciliation import liability, rules, store
from chalicelib.reconciliation.service import METRIC, READ_ATTEMPTS
from chalicelib.tradein import payout_store
from chalicelib.tradein import rules as tradein_rules
from chalicelib.tradein import store as tradein_store


def _claim_view(claim: tradein_rules.Claim) -> rules.ClaimView:
    return rules.ClaimView(
        claim.claim_number,
        claim.status,
        tuple(entry.status for entry in claim.timeline),
        claim.payout_batch_id,
        claim.reward_cents,
    )


def _batch_view(batch_id: str | None) -> rules.BatchView | None:
    batch = payout_store.get_batch(batch_id) if batch_id else None
    if batch is None:
        return None
    return rules.BatchView(batch["batch_id"], batch["status"], frozenset(batch["claims"]), int(batch["total_cents"]))


def check_claim(
    claim_number: str,
) -> tuple[list[rules.ClaimMismatch], tradein_rules.Claim, rules.BatchView | None] | None:
    """The claim's mismatches, the claim and its batch as checked; the claim is read again after
    its batch, and checked again when it changed meanwhile (a batch moves its claims in the same
    transaction), so a concurrent write is never a mismatch. None: gone or never held still."""
    for _ in range(READ_ATTEMPTS):
        claim = tradein_store.get_claim(claim_number)
        if claim is None:
            return None
        batch = _batch_view(claim.payout_batch_id)
        again = tradein_store.get_claim(claim_number)
        if again is not None and again.version == claim.version:
            return rules.claim_mismatches(_claim_view(claim), batch, tradein_rules.can_transition), claim, batch
    return None


def _batch_amount(batch: rules.BatchView) -> rules.ClaimMismatch | None:
    rewards = {n: c.reward_cents for n in batch.claim_numbers if (c := tradein_store.get_claim(n)) is not None}
    return rules.batch_mismatch(batch, rewards)


def reconcile_claims_page(shard: int, as_of: date, cursor: Any, limit: int) -> tuple[dict[str, Any], Any]:
    """One page of the unit `reconcile_claims:<shard>`: its summary and the cursor of the rest."""
    first, last = rules.days_checked(as_of)
    numbers, next_cursor = tradein_store.touched_claim_numbers(shard, first, last, limit, cursor)
    found: list[rules.ClaimMismatch] = []
    batches: dict[str, rules.BatchView] = {}
    checked = unsettled = 0
    for number in numbers:
        result = check_claim(number)
        if result is None:
            unsettled += 1
            continue
        mismatches, claim, batch = result
        checked += 1
        found.extend(mismatches)
        if batch is not None:
            batches[batch.batch_id] = batch
        share = liability.claim_contribution(claim.status, claim.reward_cents)
        liability.apply(f"claim#{number}", f"claims#{shard}", share)
    # Each batch once a page, however many of its claims changed; a batch whose claims fall in
    # several shards is checked (and counted) by each of their units and listed once (same key).
    for batch in batches.values():
        amount = _batch_amount(batch)
        if amount is not None:
            found.append(amount)
    if found:
        store.record(as_of, found)
        metrics.add_metric(name=METRIC, unit=MetricUnit.Count, value=len(found))
        logger.error(
            "claim reconciliation mismatches",
            extra={"as_of": as_of.isoformat(), "shard": shard, "mismatches": len(found)},
        )
    if next_cursor is None:
        liability.snapshot(f"claims#{shard}", as_of)
    summary: dict[str, Any] = {
        "claims_reconciled": checked,
        "claim_mismatches": len(found),
        "claims_not_settled": unsettled,
    }
    if found:
        summary["failures"] = [
            {
                "id": f"claim:{m.claim_number}" if m.claim_number else f"batch:{m.batch_id}",
                "reason": f"RECONCILIATION_MISMATCH: {m.kind}",
            }
            for m in found
        ]
    return summary, next_cursor


def coupon_liability_page(shard: int, as_of: date, cursor: Any, limit: int) -> tuple[dict[str, Any], Any]:
    """One page of the unit `coupon_liability:<shard>`: the coupons whose status changed move
    their shard's totals by their change since last seen (a rerun moves nothing)."""
    first, last = rules.days_checked(as_of)
    codes, next_cursor = coupon_store.changed_page(shard, first, last, limit, cursor)
    moved = 0
    for code in codes:
        coupon = coupon_store.get_coupon(code)
        if coupon is None:
            continue
        share = liability.coupon_contribution(coupon.status, coupon.amount_cents)
        moved += liability.apply(f"coupon#{code}", f"coupons#{shard}", share)
    if next_cursor is None:
        liability.snapshot(f"coupons#{shard}", as_of)
    return {"coupons_valued": len(codes), "coupon_liability_moves": moved}, next_cursor
