"""The history table of the loyalty ledger: entries (each with a deterministic id, so a replayed
transaction fails as a whole), the member's pages of history and the merge's copies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from chalicelib import db
from chalicelib.loyalty.models import HistoryModel
from chalicelib.loyalty.rules import LedgerEntry


def to_entry(item: HistoryModel) -> LedgerEntry:
    return LedgerEntry(
        member_id=item.member_id,
        entry_id=item.entry_id,
        at=datetime.fromisoformat(item.at),
        type=item.type,  # type: ignore[arg-type]
        points=int(item.points),
        cause=item.cause,
    )


def add_entry(
    tx: TransactWrite,
    entry: LedgerEntry,
    lots: dict[str, int] | None = None,
    reason: str | None = None,
    fingerprint: str | None = None,
) -> None:
    """A history entry; its deterministic id makes a replayed transaction fail as a whole."""
    item = _entry_item(entry, lots)
    item.reason, item.fingerprint = reason, fingerprint
    tx.save(item, condition=HistoryModel.entry_id.does_not_exist())


def _entry_item(entry: LedgerEntry, lots: dict[str, int] | None = None) -> HistoryModel:
    at_utc = entry.at.astimezone(UTC).isoformat(timespec="microseconds")
    return HistoryModel(
        entry.member_id,
        entry.entry_id,
        at=entry.at.isoformat(timespec="microseconds"),
        at_key=f"{at_utc}#{entry.entry_id}",
        type=entry.type,
        points=entry.points,
        cause=entry.cause,
        lots=lots,
    )


def get_entry(member_id: str, entry_id: str) -> tuple[LedgerEntry, str | None, str | None] | None:
    """One history entry with its reason and fingerprint (an adjustment's replay check)."""
    try:
        item = HistoryModel.get(member_id, entry_id, consistent_read=True)
    except DoesNotExist:
        return None
    return to_entry(item), item.reason, item.fingerprint


def history_of(member_id: str, limit: int, cursor: dict[str, Any] | None) -> tuple[list[LedgerEntry], Any]:
    """L12: one page of a member's history, newest first (LSI by_time)."""
    query = HistoryModel.by_time.query(member_id, scan_index_forward=False, limit=limit + 1, last_evaluated_key=cursor)
    page, last = one_page(list(query), limit, ("member_id", "entry_id", "at_key"))
    return [to_entry(item) for item in page], last


def one_page(items: list[Any], limit: int, keys: tuple[str, ...]) -> tuple[list[Any], dict[str, Any] | None]:
    """One page read with one item more than asked: a key to continue from only when more exist.

    DynamoDB hands out a LastEvaluatedKey whenever a page is full, even when nothing follows; the
    contract wants `next_cursor` null on the last page. All these index keys are strings.
    """
    if len(items) <= limit:
        return items, None
    last = items[limit - 1]
    return items[:limit], {name: {"S": getattr(last, name)} for name in keys}


def all_history_of(member_id: str) -> list[tuple[LedgerEntry, dict[str, int] | None]]:
    return [(to_entry(item), item.lots) for item in HistoryModel.query(member_id)]


def put_history_copy(entry: LedgerEntry, lots: dict[str, int] | None) -> bool:
    """Copy one entry (merge); False when it was copied before."""
    return db.applied(lambda: _entry_item(entry, lots).save(condition=HistoryModel.entry_id.does_not_exist()))
