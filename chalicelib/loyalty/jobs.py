"""Nightly work of the loyalty domain as units of the registry (chalicelib.nightly): each adapts a
domain function to the unit interface and publishes its counts."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from chalicelib import clock, flows
from chalicelib.loyalty import maturation
from chalicelib.observability import MetricUnit, metrics


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


def owed_return_effects(today: date) -> dict[str, Any]:
    """The coupon restores (C8) and claim voids (T12) that returns still owe, from the sparse
    index of returns with owed effects (one unit of the night: cost follows the owed returns).
    Owed since the return itself, so they are done as of now, whatever day the run is for."""
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
