"""Nightly work of the loyalty domain, called by chalicelib.nightly (schedule and catch-up route)."""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import date
from typing import Any

from chalicelib import clock
from chalicelib.loyalty import service
from chalicelib.observability import MetricUnit, logger, metrics


def run_nightly(today: date) -> dict[str, Any]:
    """Mature (L6), expire (L7) and settle debts from matured points (L11): all due by `today`;
    then complete what returns still owe coupons (C8) and trade-in (T12).

    Per-item failures are listed under `failures` as `{"id", "reason"}` and retried next run.
    """
    started = time.monotonic()
    counts = service.run_nightly(today)
    owed = service.complete_owed_return_effects(clock.now())
    duration_ms = int((time.monotonic() - started) * 1000)
    summary: dict[str, Any] = {
        **asdict(counts),
        "returns_completed": owed["returns_completed"],
        "failures": owed["failures"],
        "duration_ms": duration_ms,
    }
    metrics.add_metric(name="LotsMatured", unit=MetricUnit.Count, value=counts.lots_matured)
    metrics.add_metric(name="PointsMatured", unit=MetricUnit.Count, value=counts.points_matured)
    metrics.add_metric(name="LotsExpired", unit=MetricUnit.Count, value=counts.lots_expired)
    metrics.add_metric(name="PointsExpired", unit=MetricUnit.Count, value=counts.points_expired)
    metrics.add_metric(name="DebtSettled", unit=MetricUnit.Count, value=counts.debt_settled)
    metrics.add_metric(name="ReturnsCompleted", unit=MetricUnit.Count, value=owed["returns_completed"])
    metrics.add_metric(name="LoyaltyNightlyFailures", unit=MetricUnit.Count, value=len(owed["failures"]))
    metrics.add_metric(name="LoyaltyNightlyDuration", unit=MetricUnit.Milliseconds, value=duration_ms)
    logger.info(
        "loyalty nightly run",
        extra={"as_of": today.isoformat(), **{k: v for k, v in summary.items() if k != "failures"}},
    )
    return summary
