"""The SQS queue of units of work (`NIGHTLY_QUEUE`), drained by the `nightly_worker` Lambda."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.config import settings
from chalicelib.db import client


def queue_url() -> str:
    return str(client("sqs").get_queue_url(QueueName=settings().nightly_queue)["QueueUrl"])


def send(messages: list[dict[str, Any]]) -> None:
    """Enqueue unit messages, ten per request (SQS's batch limit)."""
    if not messages:
        return
    url = queue_url()
    sqs = client("sqs")
    for start in range(0, len(messages), 10):
        chunk = messages[start : start + 10]
        entries = [{"Id": str(i), "MessageBody": json.dumps(m, sort_keys=True)} for i, m in enumerate(chunk)]
        answer = sqs.send_message_batch(QueueUrl=url, Entries=entries)
        if answer.get("Failed"):
            raise RuntimeError(f"SQS refused {len(answer['Failed'])} unit messages")
