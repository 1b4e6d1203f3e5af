"""Nightly work of the loyalty domain: the units the fan-out workers run (chalicelib.nightly) and
the whole night in one loop (for tests and one-off runs)."""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import date
from typing import Any

from chalicelib.loyalty import service
from chalicelib.observability import MetricUnit, logger, metrics


def run_nightly(today: date) -> dict[str, Any]:
    """Mature (L6), expire (L7) and settle debts from matured points (L11): all due by `today`."""
    started = time.monotonic()
    counts = service.run_nightly(today)
    duration_ms = int((time.monotonic() - started) * 1000)
    summary: dict[str, Any] = {**asdict(counts), "duration_ms": duration_ms}
    _publish(counts)
    metrics.add_metric(name="LoyaltyNightlyDuration", unit=MetricUnit.Milliseconds, value=duration_ms)
    logger.info("loyalty nightly run", extra={"as_of": today.isoformat(), **_loggable(summary)})
    return summary


def mature(shard: int, today: date, cursor: Any, limit: int) -> tuple[dict[str, Any], Any]:
    """One page of maturation (L6) with debt settlement (L11) in one shard; the rest's cursor."""
    counts = service.NightlyCounts()
    next_cursor = service.mature_page(shard, today, cursor, limit, counts)
    _publish(counts)
    return asdict(counts), next_cursor


def expire(shard: int, today: date, cursor: Any, limit: int) -> tuple[dict[str, Any], Any]:
    """One page of point expiry (L7) in one shard; the rest's cursor."""
    counts = service.NightlyCounts()
    next_cursor = service.expire_page(shard, today, cursor, limit, counts)
    _publish(counts)
    return asdict(counts), next_cursor


def _publish(counts: service.NightlyCounts) -> None:
    metrics.add_metric(name="LotsMatured", unit=MetricUnit.Count, value=counts.lots_matured)
    metrics.add_metric(name="PointsMatured", unit=MetricUnit.Count, value=counts.points_matured)
    metrics.add_metric(name="LotsExpired", unit=MetricUnit.Count, value=counts.lots_expired)
    metrics.add_metric(name="PointsExpired", unit=MetricUnit.Count, value=counts.points_expired)
    metrics.add_metric(name="DebtSettled", unit=MetricUnit.Count, value=counts.debt_settled)
    metrics.add_metric(name="NightlyItemFailures", unit=MetricUnit.Count, value=len(counts.failures))


def _loggable(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: (len(v) if k == "failures" else v) for k, v in summary.items()}
