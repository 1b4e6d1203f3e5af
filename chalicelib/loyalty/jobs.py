"""Nightly work of the loyalty domain: the units the fan-out workers run (chalicelib.nightly) and
the whole night in one loop (for tests and one-off runs)."""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import date
from typing import Any

from chalicelib import clock, flows
from chalicelib.loyalty import maturation
from chalicelib.observability import MetricUnit, logger, metrics


def run_nightly(today: date) -> dict[str, Any]:
    """Mature (L6), expire (L7) and settle debts from matured points (L11): all due by `today`;
    then complete what returns still owe coupons (C8) and trade-in (T12)."""
    started = time.monotonic()
    counts = maturation.run_nightly(today)
    owed = owed_return_effects()
    duration_ms = int((time.monotonic() - started) * 1000)
    summary: dict[str, Any] = {
        **asdict(counts),
        "returns_completed": owed["returns_completed"],
        "failures": [*counts.failures, *owed["failures"]],
        "duration_ms": duration_ms,
    }
    _publish(counts)
    metrics.add_metric(name="LoyaltyNightlyDuration", unit=MetricUnit.Milliseconds, value=duration_ms)
    logger.info("loyalty nightly run", extra={"as_of": today.isoformat(), **_loggable(summary)})
    return summary


def mature(shard: int, today: date, cursor: Any, limit: int) -> tuple[dict[str, Any], Any]:
    """One page of maturation (L6) with debt settlement (L11) in one shard; the rest's cursor."""
    counts = maturation.NightlyCounts()
    next_cursor = maturation.mature_page(shard, today, cursor, limit, counts)
    _publish(counts)
    return asdict(counts), next_cursor


def expire(shard: int, today: date, cursor: Any, limit: int) -> tuple[dict[str, Any], Any]:
    """One page of point expiry (L7) in one shard; the rest's cursor."""
    counts = maturation.NightlyCounts()
    next_cursor = maturation.expire_page(shard, today, cursor, limit, counts)
    _publish(counts)
    return asdict(counts), next_cursor


def owed_return_effects() -> dict[str, Any]:
    """The coupon restores (C8) and claim voids (T12) that returns still owe, from the sparse
    index of returns with owed effects (one unit of the night: cost follows the owed returns)."""
    owed = flows.complete_owed_return_effects(clock.now())
    metrics.add_metric(name="ReturnsCompleted", unit=MetricUnit.Count, value=owed["returns_completed"])
    metrics.add_metric(name="NightlyItemFailures", unit=MetricUnit.Count, value=len(owed["failures"]))
    return owed


def _publish(counts: maturation.NightlyCounts) -> None:
    metrics.add_metric(name="LotsMatured", unit=MetricUnit.Count, value=counts.lots_matured)
    metrics.add_metric(name="PointsMatured", unit=MetricUnit.Count, value=counts.points_matured)
    metrics.add_metric(name="LotsExpired", unit=MetricUnit.Count, value=counts.lots_expired)
    metrics.add_metric(name="PointsExpired", unit=MetricUnit.Count, value=counts.points_expired)
    metrics.add_metric(name="DebtSettled", unit=MetricUnit.Count, value=counts.debt_settled)
    metrics.add_metric(name="NightlyItemFailures", unit=MetricUnit.Count, value=len(counts.failures))


def _loggable(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: (len(v) if k == "failures" else v) for k, v in summary.items()}
