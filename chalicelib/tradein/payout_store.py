"""Payout batches of the trade-in domain (T11): reads, and the transactions that write a batch
together with its claims' changes (the claims' side is `store`'s conditional update)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from functools import partial
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib import pager
from chalicelib.db import TransactionCancelled, applied, transaction
from chalicelib.tradein import counts, rules
from chalicelib.tradein.models import BATCH_DUE, BATCH_SCOPE, PayoutBatchModel
from chalicelib.tradein.store import claim_update_args, plausible_id

__all__ = ["BATCH_SCOPE", "due_batches", "get_batch", "list_batches", "schedule_batch", "set_batch_status"]


def _batch(item: PayoutBatchModel) -> dict[str, Any]:
    return {
        "batch_id": item.batch_id,
        "status": item.status,
        "execution_date": item.execution_date,
        "created_on": item.created_on,
        "claims": list(item.claim_numbers),
        "total_cents": int(item.total_cents),
        "file_key": item.file_key,
        "reason": item.reason,
    }


def get_batch(batch_id: str) -> dict[str, Any] | None:
    if not plausible_id(batch_id):
        return None
    try:
        return _batch(PayoutBatchModel.get(BATCH_SCOPE, batch_id, consistent_read=True))
    except DoesNotExist:
        return None


def list_batches(limit: int, start_key: dict[str, Any] | None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Payout batches, newest first."""
    query = partial(PayoutBatchModel.query, BATCH_SCOPE, scan_index_forward=False)
    found, last = pager.page(query, limit, start_key, ("scope", "batch_id"))
    return [_batch(item) for item in found], last


def due_batches(on_or_before: date) -> Iterator[dict[str, Any]]:
    """Scheduled batches whose execution date is on or before the day (`due_index`, a Query):
    what settling has to look at, however many batches were paid before."""
    condition = PayoutBatchModel.execution_date <= on_or_before.isoformat()
    for item in PayoutBatchModel.due_index.query(BATCH_DUE, range_key_condition=condition):
        yield _batch(item)


def schedule_batch(
    batch: dict[str, Any], changes: list[tuple[rules.Claim, rules.Claim, rules.TimelineEntry]], today: date
) -> bool:
    """Create a payout batch and move its claims to `payout_scheduled` in one transaction (T11).

    False (nothing written) when the batch exists already or a claim changed meanwhile.
    """
    item = PayoutBatchModel(
        BATCH_SCOPE,
        batch["batch_id"],
        status="scheduled",
        execution_date=batch["execution_date"],
        created_on=batch["created_on"],
        claim_numbers=batch["claims"],
        total_cents=batch["total_cents"],
        file_key=batch["file_key"],
        due_scope=BATCH_DUE,
    )
    return _batch_transaction(
        lambda tx: tx.save(item, condition=PayoutBatchModel.batch_id.does_not_exist()), changes, today
    )


def set_batch_status(
    batch_id: str,
    expected: str,
    status: str,
    reason: str | None,
    changes: list[tuple[rules.Claim, rules.Claim, rules.TimelineEntry]],
    today: date,
) -> bool:
    """Move a batch from `expected` to `status` together with its claims' changes (T11), in one
    transaction; a batch alone is one conditional UpdateItem. False when a condition failed."""
    actions: list[Action] = [
        PayoutBatchModel.status.set(status),
        PayoutBatchModel.reason.remove() if reason is None else PayoutBatchModel.reason.set(reason),
        PayoutBatchModel.due_scope.set(BATCH_DUE) if status == "scheduled" else PayoutBatchModel.due_scope.remove(),
    ]
    item = PayoutBatchModel(BATCH_SCOPE, batch_id)
    condition = PayoutBatchModel.status == expected
    if not changes:
        return applied(lambda: item.update(actions, condition=condition))
    return _batch_transaction(lambda tx: tx.update(item, actions, condition=condition), changes, today)


def _batch_transaction(
    write_batch: Callable[[TransactWrite], object],
    changes: list[tuple[rules.Claim, rules.Claim, rules.TimelineEntry]],
    today: date,
) -> bool:
    try:
        with transaction() as tx:
            write_batch(tx)
            for before, after, entry in changes:
                model, actions, claim_condition = claim_update_args(before, after, [entry], today)
                tx.update(model, actions, condition=claim_condition)
            counts.add_to(tx, counts.claim_moves((before, after) for before, after, _ in changes))
    except TransactionCancelled:
        return False
    return True
