"""Domain events out, end to end in moto: the published tables' streams -> the stream bridge (Lambda's
event source, scripts/stream_bridge.py) -> the app's `publish_events` -> the bus -> a rule -> SQS.

`tap` is what a consumer sees; `faults` breaks PutEvents the ways the crash tests need.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from chalicelib.config import settings
from chalicelib.db import client as aws_client
from chalicelib.outbound import publisher
from chalicelib.outbound.mapping import PUBLISHED_TABLES
from scripts.stream_bridge import StreamBridge
from tests.integration.tradein.helpers import tradein  # noqa: F401 - a fixture, found by name

TAP_QUEUE = "test-events-tap"


class Tap:
    """An SQS queue behind a rule matching every event of the app's source on the bus."""

    def __init__(self) -> None:
        sqs = aws_client("sqs")
        self.url = sqs.create_queue(QueueName=TAP_QUEUE)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events = aws_client("events")
        bus = settings().event_bus
        events.put_rule(Name="tap", EventBusName=bus, EventPattern=json.dumps({"source": [publisher.SOURCE]}))
        events.put_targets(Rule="tap", EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn}])
        self.seen: list[dict[str, Any]] = []

    def read(self) -> list[dict[str, Any]]:
        """Every event delivered so far (duplicates included), oldest first."""
        sqs = aws_client("sqs")
        while True:
            messages = sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return list(self.seen)
            for message in messages:
                self.seen.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def tap(aws: None) -> Tap:
    return Tap()


@pytest.fixture
def bridge(client: Any, monkeypatch: pytest.MonkeyPatch) -> StreamBridge:
    """Lambda's event source over the published tables, invoking the app's `publish_events`."""
    monkeypatch.setattr(publisher, "BACKOFF_SECONDS", 0.0)  # the retries' pauses, not their number

    def invoke(event: dict[str, Any], _context: Any) -> Any:
        return client.lambda_.invoke("publish_events", event).payload

    tables = [f"{settings().table_prefix}{table}" for table in PUBLISHED_TABLES]
    return StreamBridge(tables, invoke, batch_size=10)


class LambdaDied(Exception):
    """The function's process ended after PutEvents had succeeded (timeout, out of memory)."""


@dataclass
class PutEventsFaults:
    """Breaks the publisher's PutEvents calls (botocore events on its cached client).

    `error(n)`: the next n calls fail before they are sent; `partial(n)`: the next n calls deliver
    only their odd entries (the first is always refused) and answer the others failed
    (FailedEntryCount); `die_after(n)`: the
    next n calls succeed, then the process dies before it answers Lambda.
    """

    calls: int = 0
    plans: list[str] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)

    def error(self, n: int = 1) -> None:
        self.plans += ["error"] * n

    def partial(self, n: int = 1) -> None:
        self.plans += ["partial"] * n

    def die_after(self, n: int = 1) -> None:
        self.plans += ["die"] * n

    def _plan(self) -> str | None:
        return self.plans[0] if self.plans else None

    def before_parameters(self, params: dict[str, Any], **_: Any) -> None:
        self.calls += 1
        plan = self._plan()
        if plan == "error":
            self.plans.pop(0)
            raise EndpointConnectionError(endpoint_url="injected: PutEvents failed")
        if plan == "partial":
            entries = params["Entries"]
            self.dropped = [i for i in range(len(entries)) if not i % 2]
            params["Entries"] = [e for i, e in enumerate(entries) if i % 2]

    def after_call(self, parsed: dict[str, Any], **_: Any) -> None:
        plan = self._plan()
        if plan == "partial":
            self.plans.pop(0)
            delivered = iter(parsed["Entries"])
            total = len(parsed["Entries"]) + len(self.dropped)
            parsed["Entries"] = [
                {"ErrorCode": "ThrottlingException", "ErrorMessage": "injected"}
                if i in self.dropped
                else next(delivered)
                for i in range(total)
            ]
            parsed["FailedEntryCount"] = len(self.dropped)
        elif plan == "die":
            self.plans.pop(0)
            raise LambdaDied("injected: the publisher died after PutEvents succeeded")


@pytest.fixture
def faults(aws: None) -> Iterator[PutEventsFaults]:
    injected = PutEventsFaults()
    events = aws_client("events").meta.events
    hooks: list[tuple[str, Callable[..., Any]]] = [
        ("before-parameter-build.events.PutEvents", injected.before_parameters),
        ("after-call.events.PutEvents", injected.after_call),
    ]
    for name, hook in hooks:
        events.register(name, hook)
    yield injected
    for name, hook in hooks:
        events.unregister(name, hook)
