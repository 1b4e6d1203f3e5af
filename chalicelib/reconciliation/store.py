"""Reads of the reconciliation (the loyalty items, read only, by key and index) and its findings.

Touched members come from the sparse GSI `touched` of the members table (`touched_shard`,
`touched_on`), which the ledger's own member actions set (loyalty/member_store.py): a Query per shard
and day, never a scan.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from chalicelib import clock
from chalicelib.loyalty.models import HistoryModel, LotModel, MemberModel
from chalicelib.reconciliation.models import MismatchModel
from chalicelib.reconciliation.rules import ClaimMismatch, LotView, Mismatch


def touched_page(shard: int, first: date, last: date, limit: int, cursor: Any) -> tuple[list[str], Any]:
    """Member ids of one shard last touched between `first` and `last`, one page."""
    query = MemberModel.touched.query(
        shard,
        MemberModel.touched_on.between(first.isoformat(), last.isoformat()),
        limit=limit,
        last_evaluated_key=cursor,
    )
    ids = [str(item.member_id) for item in query]
    return ids, query.last_evaluated_key


def balances(member_id: str) -> dict[str, Any] | None:
    """The member's balances and expiring summary, read strongly consistent; `version` tells two
    reads apart (every ledger write changes one of them)."""
    try:
        item = MemberModel.get(
            member_id, consistent_read=True, attributes_to_get=["pending", "available", "debt", "expiring"]
        )
    except MemberModel.DoesNotExist:
        return None
    expiring = {str(k): int(v) for k, v in (item.expiring.as_dict() if item.expiring is not None else {}).items()}
    read = {"pending": int(item.pending), "available": int(item.available), "debt": int(item.debt)}
    return {**read, "expiring": expiring, "version": json.dumps([read, expiring], sort_keys=True)}


def lots(member_id: str) -> list[LotView]:
    return [
        LotView(str(i.lot_id), str(i.status), int(i.remaining), int(i.points))
        for i in LotModel.query(
            member_id, consistent_read=True, attributes_to_get=["lot_id", "status", "remaining", "points"]
        )
    ]


def history_lots(member_id: str) -> dict[str, dict[str, int] | None]:
    """Entry id -> the lots it names, for every history entry of the member."""
    return {
        str(i.entry_id): (dict(i.lots) if i.lots else None)
        for i in HistoryModel.query(member_id, consistent_read=True, attributes_to_get=["entry_id", "lots"])
    }


def _finding(day: date, m: Mismatch | ClaimMismatch, at: str) -> MismatchModel:
    item = MismatchModel(day.isoformat(), m.key, kind=m.kind, found_at=at)
    if isinstance(m, Mismatch):
        item.member_id, item.expected, item.actual, item.lot_id = m.member_id, m.expected, m.actual, m.lot_id
        return item
    item.claim_number, item.batch_id = m.claim_number, m.batch_id
    if isinstance(m.expected, int) and isinstance(m.actual, int):
        item.expected, item.actual = m.expected, m.actual
    else:
        item.expected_text, item.actual_text = str(m.expected), str(m.actual)
    return item


def record(day: date, found: list[Mismatch] | list[ClaimMismatch]) -> None:
    """Keep the findings of `day` (a rerun writes the same items again)."""
    at = clock.iso(clock.now())
    with MismatchModel.batch_write() as batch:
        for m in found:
            batch.save(_finding(day, m, at))


def _shown(i: MismatchModel) -> dict[str, Any]:
    """A finding as GET /backoffice/reconciliation lists it (a member's, or a claim's/batch's)."""
    if i.member_id is not None:
        return {
            "member_id": i.member_id,
            "kind": i.kind,
            "expected": int(i.expected),
            "actual": int(i.actual),
            **({"lot_id": i.lot_id} if i.lot_id else {}),
            "found_at": i.found_at,
        }
    numbers = i.expected_text is None
    return {
        **({"claim_number": i.claim_number} if i.claim_number else {}),
        **({"batch_id": i.batch_id} if i.batch_id else {}),
        "kind": i.kind,
        "expected": int(i.expected) if numbers else i.expected_text,
        "actual": int(i.actual) if numbers else i.actual_text,
        "found_at": i.found_at,
    }


def of_day(day: date, limit: int, cursor: dict[str, Any] | None) -> tuple[list[dict[str, Any]], Any]:
    """One page of the findings of `day`, with the key to continue from (None: the last page)."""
    query = MismatchModel.query(day.isoformat(), limit=limit + 1, last_evaluated_key=cursor)
    items = list(query)
    more = len(items) > limit
    items = items[:limit]
    page = [_shown(i) for i in items]
    last = {"day": {"S": items[-1].day}, "item_key": {"S": items[-1].item_key}} if more and items else None
    return page, last
