"""The outbox's publisher: a batch of stream records -> EventBridge, at least once.

Lambda reads each table's stream in order and calls `publish` with a batch. Every event goes to
the bus with its deterministic id in the detail; entries EventBridge refuses are retried a few
times here. If some still fail, the batch answers `batchItemFailures` naming the first record
not fully published: Lambda (ReportBatchItemFailures) checkpoints before it and delivers it and
every later record again. A crash after PutEvents succeeded has the whole batch delivered again.
Either way a consumer may see an event twice, always with the same id (docs/events.md).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.config import settings
from chalicelib.db import client
from chalicelib.observability import logger, metrics
from chalicelib.outbound.mapping import DomainEvent, events_of

SOURCE = "loyalty-backend"
ENTRIES_PER_CALL = 10  # PutEvents' limit
ATTEMPTS = 3  # PutEvents calls per entry before the batch is handed back to Lambda
BACKOFF_SECONDS = 0.2


def publish(records: Iterable[dict[str, Any]], sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Publish the events of `records` (raw stream records, in stream order).

    Returns Lambda's partial batch response: no failures, or the first record to deliver again.
    """
    prefix = settings().table_prefix
    pending: list[tuple[str, DomainEvent]] = []  # (sequence number of its record, event)
    order: list[str] = []
    for record in records:
        sequence = record["dynamodb"]["SequenceNumber"]
        order.append(sequence)
        pending.extend((sequence, event) for event in events_of(record, prefix))
    for attempt in range(ATTEMPTS):
        if not pending:
            break
        if attempt:
            sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
        pending = _put(pending)
    if not pending:
        logger.info("events published", extra={"records": len(order)})
        return {"batchItemFailures": []}
    failed = {sequence for sequence, _ in pending}
    first = next(sequence for sequence in order if sequence in failed)
    metrics.add_metric(name="EventsNotPublished", unit=MetricUnit.Count, value=len(pending))
    logger.warning("events not published; the stream delivers them again", extra={"from_sequence": first})
    return {"batchItemFailures": [{"itemIdentifier": first}]}


def entry(event: DomainEvent) -> dict[str, Any]:
    """One PutEvents entry: detail-type is the event type, the detail carries the id."""
    return {
        "Source": SOURCE,
        "DetailType": event.type,
        "Detail": json.dumps(event.detail(), sort_keys=True),
        "EventBusName": settings().event_bus,
    }


def _put(events: list[tuple[str, DomainEvent]]) -> list[tuple[str, DomainEvent]]:
    """One pass over `events` in calls of ten; returns those not accepted."""
    failed: list[tuple[str, DomainEvent]] = []
    for start in range(0, len(events), ENTRIES_PER_CALL):
        chunk = events[start : start + ENTRIES_PER_CALL]
        try:
            answer = client("events").put_events(Entries=[entry(event) for _, event in chunk])
        except (ClientError, BotoCoreError) as exc:
            logger.warning("PutEvents failed", extra={"error": type(exc).__name__})
            failed.extend(chunk)
            continue
        if answer.get("FailedEntryCount"):
            # The answer's entries are in the request's order; a failed one carries an ErrorCode.
            failed.extend(
                item for item, result in zip(chunk, answer["Entries"], strict=True) if result.get("ErrorCode")
            )
    return failed
