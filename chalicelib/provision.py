"""Create every table, bucket and SES identity the app uses on the current endpoint. Idempotent.

Used by tests (in-process moto) and the local stack (moto's server). In AWS the deploy template
declares the same resources, generated from the same PynamoDB models (chalicelib.tables.all_models).
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.config import settings
from chalicelib.db import client
from chalicelib.tables import all_models

CORS_RULES = [
    {
        "AllowedOrigins": ["*"],
        "AllowedMethods": ["POST", "GET"],
        "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag"],
        "MaxAgeSeconds": 3000,
    }
]


def provision() -> dict[str, Any]:
    """Create what is missing; leave what exists. Returns what it did, for the local stack's log."""
    existing = _table_names()
    created_tables = [model.Meta.table_name for model in all_models() if _ensure_table(model, existing)]
    _ensure_bucket()
    queue_url = _ensure_upload_notification()
    work_queue = _ensure_nightly_queue()
    _ensure_ses_identity()
    bus = _ensure_event_bus()
    return {
        "tables_created": created_tables,
        "bucket": settings().proofs_bucket,
        "upload_queue": queue_url,
        "nightly_queue": work_queue,
        "event_bus": bus,
    }


def _ensure_nightly_queue() -> str:
    """The queue of the nightly runs' units (deployed: the template's, with its dead-letter queue)."""
    visibility = str(settings().nightly_time_margin_seconds * 2)
    return str(
        client("sqs").create_queue(QueueName=settings().nightly_queue, Attributes={"VisibilityTimeout": visibility})[
            "QueueUrl"
        ]
    )


def _table_names() -> set[str]:
    names: set[str] = set()
    for page in client("dynamodb").get_paginator("list_tables").paginate():
        names.update(page["TableNames"])
    return names


def _ensure_table(model: Any, existing: set[str]) -> bool:
    if model.Meta.table_name in existing:
        return False
    model.create_table(billing_mode="PAY_PER_REQUEST", wait=False)
    client("dynamodb").get_waiter("table_exists").wait(
        TableName=model.Meta.table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    return True


def _ensure_bucket() -> None:
    s3 = client("s3")
    bucket = settings().proofs_bucket
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        kwargs: dict[str, Any] = {"Bucket": bucket}
        if settings().aws_region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": settings().aws_region}
        s3.create_bucket(**kwargs)
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": CORS_RULES})


def _ensure_upload_notification() -> str | None:
    """Local event bridge: S3 `proofs/` uploads notify an SQS queue that the local worker polls.

    Deployed, the template wires the notification straight to the `on_proof_uploaded` Lambda.
    """
    queue_name = settings().proof_upload_queue
    if not queue_name:
        return None
    sqs = client("sqs")
    queue_url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    client("s3").put_bucket_notification_configuration(
        Bucket=settings().proofs_bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "proofs/"}]}},
                }
            ]
        },
    )
    return str(queue_url)


def _ensure_event_bus() -> str:
    """The bus of the domain events (chalicelib/outbound); the tables' streams come with the models."""
    events = client("events")
    name = settings().event_bus
    try:
        events.describe_event_bus(Name=name)
    except ClientError:
        events.create_event_bus(Name=name)
    return name


def _ensure_ses_identity() -> None:
    client("ses").verify_email_identity(EmailAddress=settings().ses_sender)


if __name__ == "__main__":
    print(json.dumps(provision(), indent=2))
