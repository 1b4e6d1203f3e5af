"""The nightly reconciliation (issue 16) as units of the nightly fan-out: `reconcile:<shard>`.

Each unit pages through the members of its shard touched on the days the run checks (rules.
days_checked) and, per member, compares the balances with its lots and its lots with its history.
The member item is read before and after the lots and history: when it changed meanwhile (a
ledger write ran), the member is read again, so a concurrent write is never a mismatch. A mismatch
is recorded (GET /backoffice/reconciliation?date=), counted in the `ReconciliationMismatch`
metric and listed in the run's failures; nothing is ever repaired here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.errors import BadRequest
from chalicelib.observability import MetricUnit, logger, metrics
from chalicelib.reconciliation import liability, rules, store

METRIC = "ReconciliationMismatch"
READ_ATTEMPTS = 3


def check_member(member_id: str) -> tuple[list[rules.Mismatch], dict[str, Any]] | None:
    """The member's mismatches (empty: consistent) and the balances they were checked against;
    None when it no longer exists or never held still for READ_ATTEMPTS reads (it is checked again
    by the next run it is touched for)."""
    for _ in range(READ_ATTEMPTS):
        before = store.balances(member_id)
        if before is None:
            return None
        lots, entries = store.lots(member_id), store.history_lots(member_id)
        after = store.balances(member_id)
        if after is not None and after["version"] == before["version"]:
            return rules.mismatches(member_id, before["pending"], before["available"], lots, entries), before
    return None


def reconcile_page(shard: int, as_of: date, cursor: Any, limit: int) -> tuple[dict[str, Any], Any]:
    """One page of the unit `reconcile:<shard>`: its summary and the cursor of the rest."""
    first, last = rules.days_checked(as_of)
    member_ids, next_cursor = store.touched_page(shard, first, last, limit, cursor)
    found: list[rules.Mismatch] = []
    checked = unsettled = 0
    for member_id in member_ids:
        result = check_member(member_id)
        if result is None:
            unsettled += 1
            continue
        checked += 1
        found.extend(result[0])
        read = result[1]
        share = liability.contribution(read["pending"], read["available"], read["debt"], read["expiring"])
        liability.apply(f"member#{member_id}", str(shard), share)
    if found:
        store.record(as_of, found)
        metrics.add_metric(name=METRIC, unit=MetricUnit.Count, value=len(found))
        logger.error(
            "reconciliation mismatches",
            extra={"as_of": as_of.isoformat(), "shard": shard, "mismatches": len(found)},
        )
    if next_cursor is None:  # the unit's last page: the shard's liability snapshot of the night
        liability.snapshot(str(shard), as_of)
    summary: dict[str, Any] = {
        "members_reconciled": checked,
        "reconciliation_mismatches": len(found),
        "members_not_settled": unsettled,
    }
    if found:
        summary["failures"] = [
            {"id": f"member:{m.member_id}", "reason": f"RECONCILIATION_MISMATCH: {m.kind}"} for m in found
        ]
    return summary, next_cursor


def findings(day: str | None, limit: int, cursor: dict[str, Any] | None) -> tuple[list[dict[str, Any]], Any]:
    """GET /backoffice/reconciliation?date=: the mismatches the run of that date found."""
    if not day:
        raise BadRequest("INVALID_REQUEST", "date is required (YYYY-MM-DD)", {"errors": [{"field": "query.date"}]})
    try:
        as_of = date.fromisoformat(day)
    except ValueError:
        raise BadRequest("INVALID_REQUEST", "date must be YYYY-MM-DD", {"errors": [{"field": "query.date"}]}) from None
    return store.of_day(as_of, limit, cursor)
