"""The nightly jobs, by name, as units of work for the fan-out (chalicelib.runs).

A job is a list of chains; the units of one chain run one after another (a lot matures before it
can expire; the trade-in steps keep their order), chains run in parallel on the workers. A unit
runs one page at a time: `run_unit` answers the page's summary (the interface contract: a dict,
per-item failures under `failures`) and the cursor of the rest, None when the unit is done.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from chalicelib import clock
from chalicelib.config import settings
from chalicelib.runs.rules import step_summary

JOBS = ("nightly_loyalty", "nightly_tradein")


def _tradein_steps() -> dict[str, tuple[str, Callable[[date, datetime, Any], Any]]]:
    """Each trade-in step as one unit: its summary key and how it is called (with the run's
    ItemFailures, so one bad claim is recorded and the rest is done)."""
    from chalicelib.tradein import deadlines, payouts

    return {
        "finish_reviews": ("reviews_finished", deadlines.finish_reviews),
        "send_owed_emails": ("emails_sent", lambda today, now, failures: deadlines.send_owed_emails(now, failures)),
        "lapse_overdue": ("lapsed", deadlines.lapse_overdue),
        "mark_paid": ("paid", payouts.mark_paid),
        "settle_batches": ("batches_settled", lambda today, now, failures: payouts.settle_batches(today, failures)),
        "schedule_payouts": ("payout_batches", payouts.schedule_payouts),
    }


# The trade-in steps in the order of the old single loop (one chain).
TRADEIN_UNITS = (
    "finish_reviews",
    "send_owed_emails",
    "lapse_overdue",
    "mark_paid",
    "settle_batches",
    "schedule_payouts",
)


def plan(job: str) -> list[list[str]]:
    """The chains of units of one run of `job`. Debt settlement (L11) is paid from maturing
    points, so it runs inside each maturation unit; expiry of a shard follows its maturation."""
    if job == "nightly_loyalty":
        lots = [[f"mature:{s}", f"expire:{s}"] for s in range(settings().maturity_shards)]
        # the coupon liability (issue 16) values a shard once its expiries of the night are done
        coupons = [[f"coupons:{s}", f"coupon_liability:{s}"] for s in range(settings().coupon_expiry_shards)]
        # reconciliation (issue 16) reads each member before and after its lots: safe beside them
        reconcile = [[f"reconcile:{s}"] for s in range(settings().reconciliation_shards)]
        return [*lots, *coupons, ["returns"], *reconcile]
    if job == "nightly_tradein":
        # issue 16: after the batches are settled, the overdue check and the claim reconciliation
        claims = [f"reconcile_claims:{s}" for s in range(settings().reconciliation_shards)]
        return [[*TRADEIN_UNITS, "payouts_overdue", *claims]]
    raise KeyError(job)


def run_unit(job: str, unit: str, as_of: date, cursor: Any, limit: int) -> tuple[dict[str, Any], Any]:
    """One page of one unit: its summary and the cursor of the rest (None: the unit is done)."""
    if job == "nightly_loyalty":
        kind, _, shard = unit.partition(":")
        if kind == "mature":
            from chalicelib.loyalty.jobs import mature

            return mature(int(shard), as_of, cursor, limit)
        if kind == "expire":
            from chalicelib.loyalty.jobs import expire

            return expire(int(shard), as_of, cursor, limit)
        if kind == "coupons":
            from chalicelib.coupons.jobs import expire_coupons_page

            return expire_coupons_page(int(shard), as_of, cursor, limit)
        if kind == "coupon_liability":
            from chalicelib.reconciliation.claims import coupon_liability_page

            return coupon_liability_page(int(shard), as_of, cursor, limit)
        if kind == "returns":  # what returns still owe coupons (C8) and trade-in (T12)
            from chalicelib.loyalty.jobs import owed_return_effects

            return owed_return_effects(), None
        if kind == "reconcile":
            from chalicelib.reconciliation.service import reconcile_page

            return reconcile_page(int(shard), as_of, cursor, limit)
    if job == "nightly_tradein" and unit == "payouts_overdue":
        from chalicelib.reconciliation.payouts import check_payouts

        return check_payouts(as_of), None
    if job == "nightly_tradein" and unit.startswith("reconcile_claims:"):
        from chalicelib.reconciliation.claims import reconcile_claims_page

        return reconcile_claims_page(int(unit.partition(":")[2]), as_of, cursor, limit)
    if job == "nightly_tradein" and unit in TRADEIN_UNITS:
        from chalicelib.tradein.isolation import ItemFailures

        key, step = _tradein_steps()[unit]
        failures = ItemFailures(job)
        summary = step_summary(key, step(as_of, clock.now(), failures))
        return ({**summary, "failures": failures.items} if failures.items else summary), None
    raise KeyError(f"{job}:{unit}")


def nightly_loyalty(today: date) -> dict[str, Any]:
    """Mature (L6) and expire (L7) points, expire coupons (C2) in one loop (tests, one-off runs)."""
    from chalicelib.coupons.jobs import expire_coupons
    from chalicelib.loyalty.jobs import run_nightly

    return {**run_nightly(today), "coupons": expire_coupons(today)}


def nightly_tradein(today: date) -> dict[str, Any]:
    """Trade-in deadlines (T7, T8, T10), payouts (T11) and due e-mails (T6) in one loop."""
    from chalicelib.tradein.jobs import run_nightly

    return run_nightly(today)
