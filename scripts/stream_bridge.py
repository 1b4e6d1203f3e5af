"""Lambda's DynamoDB stream event source, locally (the local stack and the tests).

In AWS an event source mapping reads each published table's stream and calls `publish_events`
with batches of records, in order per shard. This does the same against moto: from the shard's
start (TRIM_HORIZON), one batch per shard per poll, in Lambda's record shape (eventSourceARN, an
epoch ApproximateCreationDateTime). It keeps Lambda's checkpoints, which is what at-least-once
rests on: after an answer without failures the batch is done; an answer naming a record in
`batchItemFailures` (ReportBatchItemFailures) resumes from that record; an exception (the
function failed or died) delivers the same batch again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("stream-bridge")
Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class StreamBridge:
    tables: list[str]  # physical table names whose streams feed `handler`
    handler: Handler
    batch_size: int = 100
    region: str = "eu-west-1"
    checkpoints: dict[tuple[str, str], str] = field(default_factory=dict)  # (stream, shard) -> last done
    deliveries: int = 0  # handler calls, failed ones included
    context: Callable[[], Any] = lambda: None  # Lambda's context per call (the local stack gives one)

    def poll(self) -> int:
        """One batch from every shard that has records; returns how many records were done."""
        from chalicelib.db import client

        dynamodb, streams = client("dynamodb"), _streams()
        done = 0
        for table in self.tables:
            stream_arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
            shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
            for shard in shards:
                done += self._deliver(streams, stream_arn, shard["ShardId"])
        return done

    def drain(self, limit: int = 1000) -> int:
        """Poll until a poll does nothing; raises if deliveries keep failing `limit` times."""
        total = 0
        for _ in range(limit):
            try:
                done = self.poll()
            except Exception:  # the function failed: Lambda retries the batch
                log.warning("stream bridge: publish_events failed; the batch is delivered again", exc_info=True)
                continue
            if not done and not self._behind():
                return total
            total += done
        raise RuntimeError(f"the stream bridge did not drain in {limit} polls")

    def _behind(self) -> bool:
        """True while some shard still has records after its checkpoint."""
        from chalicelib.db import client

        streams = _streams()
        for table in self.tables:
            stream_arn = client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
            for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
                if self._records(streams, stream_arn, shard["ShardId"], 1):
                    return True
        return False

    def _records(self, streams: Any, stream_arn: str, shard_id: str, limit: int) -> list[dict[str, Any]]:
        done = self.checkpoints.get((stream_arn, shard_id))
        position: dict[str, Any] = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": done}
            if done
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard_id, **position)["ShardIterator"]
        return list(streams.get_records(ShardIterator=iterator, Limit=limit)["Records"])

    def _deliver(self, streams: Any, stream_arn: str, shard_id: str) -> int:
        records = [
            self._lambda_record(r, stream_arn) for r in self._records(streams, stream_arn, shard_id, self.batch_size)
        ]
        if not records:
            return 0
        self.deliveries += 1
        answer = self.handler({"Records": records}, self.context())  # an exception: nothing is checkpointed
        failures = (answer or {}).get("batchItemFailures") or []
        sequences = [r["dynamodb"]["SequenceNumber"] for r in records]
        if failures:
            first = min(sequences.index(f["itemIdentifier"]) for f in failures)
            if first:
                self.checkpoints[(stream_arn, shard_id)] = sequences[first - 1]
            return first
        self.checkpoints[(stream_arn, shard_id)] = sequences[-1]
        return len(records)

    def _lambda_record(self, record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
        change = dict(record["dynamodb"])
        change["ApproximateCreationDateTime"] = change["ApproximateCreationDateTime"].timestamp()
        return {**record, "dynamodb": change, "awsRegion": self.region, "eventSourceARN": stream_arn}


def _streams() -> Any:
    """A DynamoDB Streams client. Not account-based endpoints (botocore's default since 1.37):
    moto knows only `streams.dynamodb.<region>.amazonaws.com`."""
    import boto3
    from botocore.config import Config

    from chalicelib.config import settings

    return boto3.client(
        "dynamodbstreams", region_name=settings().aws_region, config=Config(account_id_endpoint_mode="disabled")
    )
