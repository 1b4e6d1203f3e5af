"""The nightly jobs as one registry of units of work, and the one runner of a unit.

A job is a list of chains; the units of one chain run one after another (a lot matures before it
can expire; the trade-in steps keep their order), chains run in parallel on the fan-out workers
(chalicelib.runs). A unit is `<kind>` or `<kind>:<shard>`; `KINDS` says, per kind, which function
runs it (its module bound lazily, loaded at its first run: importing the app loads no domain), whether it pages and
which setting shards it. A unit runs one page at a time: `run_unit` answers the page's summary
(the interface contract: a dict, per-item failures under `failures`) and the cursor of the rest,
None when the unit is done. `run` takes the whole plan in one process through the same runner
(tests, scripts, one-off runs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import ModuleType
from typing import TYPE_CHECKING, Any

from chalicelib.config import settings
from chalicelib.lazy import lazy_module
from chalicelib.observability import logger
from chalicelib.runs.rules import add_tally

if TYPE_CHECKING:  # each module loads at the first run of one of its units (chalicelib/lazy.py)
    from chalicelib.coupons import jobs as coupon_jobs
    from chalicelib.loyalty import jobs as loyalty_jobs
    from chalicelib.reconciliation import claims as claim_checks
    from chalicelib.reconciliation import payouts as payout_checks
    from chalicelib.reconciliation import service as reconciliation
    from chalicelib.tradein import jobs as tradein_jobs
else:
    coupon_jobs = lazy_module("chalicelib.coupons.jobs")
    loyalty_jobs = lazy_module("chalicelib.loyalty.jobs")
    claim_checks = lazy_module("chalicelib.reconciliation.claims")
    payout_checks = lazy_module("chalicelib.reconciliation.payouts")
    reconciliation = lazy_module("chalicelib.reconciliation.service")
    tradein_jobs = lazy_module("chalicelib.tradein.jobs")


@dataclass(frozen=True)
class Kind:
    """How the units of one kind run: `module.function` is called `(shard, as_of, cursor, limit)`
    -> (summary, cursor) when `paged`, else `(as_of)` -> summary; `shards` names the Settings
    field with the number of shards (None: one unit)."""

    module: ModuleType
    function: str
    paged: bool = False
    shards: str | None = None


KINDS: dict[str, Kind] = {
    # nightly_loyalty. Debt settlement (L11) is paid from maturing points: inside maturation.
    "mature": Kind(loyalty_jobs, "mature", paged=True, shards="maturity_shards"),
    "expire": Kind(loyalty_jobs, "expire", paged=True, shards="maturity_shards"),
    "coupons": Kind(coupon_jobs, "expire_coupons_page", paged=True, shards="coupon_expiry_shards"),
    "coupon_liability": Kind(claim_checks, "coupon_liability_page", paged=True, shards="coupon_expiry_shards"),
    "returns": Kind(loyalty_jobs, "owed_return_effects"),  # what returns owe (C8, T12)
    "reconcile": Kind(reconciliation, "reconcile_page", paged=True, shards="reconciliation_shards"),
    # nightly_tradein: deadlines (T7, T8, T10), payouts (T11), owed e-mails (T6); then issue 16's checks
    "finish_reviews": Kind(tradein_jobs, "finish_reviews"),
    "send_owed_emails": Kind(tradein_jobs, "send_owed_emails"),
    "lapse_overdue": Kind(tradein_jobs, "lapse_overdue"),
    "mark_paid": Kind(tradein_jobs, "mark_paid"),
    "settle_batches": Kind(tradein_jobs, "settle_batches"),
    "schedule_payouts": Kind(tradein_jobs, "schedule_payouts"),
    "payouts_overdue": Kind(payout_checks, "check_payouts"),
    "reconcile_claims": Kind(claim_checks, "reconcile_claims_page", paged=True, shards="reconciliation_shards"),
}


@dataclass(frozen=True)
class Chains:
    """Kinds that run in this order. `per_shard`: one chain per shard (all kinds share the shard
    setting), e.g. a shard's expiry follows its maturation; else one chain in which a sharded kind
    runs shard after shard."""

    kinds: tuple[str, ...]
    per_shard: bool = False


TRADEIN_STEPS = (
    "finish_reviews",
    "send_owed_emails",
    "lapse_overdue",
    "mark_paid",
    "settle_batches",
    "schedule_payouts",
)

JOBS: dict[str, tuple[Chains, ...]] = {
    "nightly_loyalty": (
        Chains(("mature", "expire"), per_shard=True),
        # the coupon liability (issue 16) values a shard once its expiries of the night are done
        Chains(("coupons", "coupon_liability"), per_shard=True),
        Chains(("returns",)),
        # reconciliation (issue 16) reads each member before and after its lots: safe beside them
        Chains(("reconcile",), per_shard=True),
    ),
    # issue 16: after the batches are settled, the overdue check and the claim reconciliation
    "nightly_tradein": (Chains((*TRADEIN_STEPS, "payouts_overdue", "reconcile_claims")),),
}


def _shards(kind: str) -> int | None:
    field = KINDS[kind].shards
    return None if field is None else int(getattr(settings(), field))


def _units(kind: str, shard: int | None = None) -> list[str]:
    count = _shards(kind)
    if count is None:
        return [kind]
    return [f"{kind}:{s}" for s in (range(count) if shard is None else [shard])]


def plan(job: str) -> list[list[str]]:
    """The chains of units of one run of `job`, derived from `JOBS` and `KINDS`."""
    chains: list[list[str]] = []
    for group in JOBS[job]:
        if group.per_shard:
            count = _shards(group.kinds[0]) or 1
            chains += [[u for kind in group.kinds for u in _units(kind, s)] for s in range(count)]
        else:
            chains.append([u for kind in group.kinds for u in _units(kind)])
    return chains


def _kind_of(job: str, unit: str) -> tuple[Kind, int | None]:
    """The kind and shard of a unit of `job`; KeyError for a unit the job's plan has not."""
    name, _, shard = unit.partition(":")
    if name not in {k for group in JOBS[job] for k in group.kinds}:
        raise KeyError(f"{job}:{unit}")
    count = _shards(name)
    if count is None:
        if shard:
            raise KeyError(f"{job}:{unit}")
        return KINDS[name], None
    if not shard.isdigit() or int(shard) >= count:
        raise KeyError(f"{job}:{unit}")
    return KINDS[name], int(shard)


def run_unit(job: str, unit: str, as_of: date, cursor: Any, limit: int) -> tuple[dict[str, Any], Any]:
    """One page of one unit: its summary and the cursor of the rest (None: the unit is done)."""
    kind, shard = _kind_of(job, unit)
    function = getattr(kind.module, kind.function)
    if kind.paged:
        summary, next_cursor = function(shard, as_of, cursor, limit)
        return summary, next_cursor
    return function(as_of), None


def run(job: str, as_of: date, kinds: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The plan of `job` (only the units of `kinds`, if given) in this process, chain after chain,
    page by page through `run_unit`; the summaries folded as a run folds them (`failures` listed)."""
    total: dict[str, Any] = {}
    for chain in plan(job):
        for unit in chain:
            if kinds is not None and unit.partition(":")[0] not in kinds:
                continue
            cursor: Any = None
            while True:
                summary, cursor = run_unit(job, unit, as_of, cursor, settings().nightly_page_size)
                total = add_tally(total, summary)
                if cursor is None:
                    break
    total.setdefault("failures", [])
    logger.info(
        "nightly run in process", extra={"job": job, "as_of": as_of.isoformat(), "failed": len(total["failures"])}
    )
    return total
