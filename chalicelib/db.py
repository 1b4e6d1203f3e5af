"""AWS connections, created lazily (never at import) so tests can swap the endpoint.

boto3 and PynamoDB both follow AWS_ENDPOINT_URL (moto's server locally, in-process moto in tests).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import pynamodb.connection.base
from botocore.config import Config
from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, PutError, TransactWriteError, UpdateError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.config import settings


@lru_cache(maxsize=1)
def _shared_loader() -> botocore.loaders.Loader:
    return botocore.loaders.create_loader()


def botocore_session() -> botocore.session.Session:
    """A botocore session sharing one loader, so service models are parsed once per process.

    PynamoDB opens a session per model connection; each would parse the DynamoDB service JSON
    again (about 0.3 s per model on a cold start), so PynamoDB is given this factory below.
    """
    session = botocore.session.get_session()
    session.register_component("data_loader", _shared_loader())
    return session


# PynamoDB builds its sessions with the `get_session` it imported from botocore: patch that name.
pynamodb.connection.base.get_session = botocore_session  # type: ignore[attr-defined]


def table_name(name: str) -> str:
    """The stage's physical table name. Read at model import time (see config.py)."""
    return f"{settings().table_prefix}{name}"


def _s3_config() -> Config:
    """S3 signs with SigV4: S3 refuses SigV2 on buckets made after June 2020, presigned POSTs and
    GET links included. Virtual-hosted addresses on AWS; path style on a local endpoint (moto's
    server at 127.0.0.1 has no bucket subdomains)."""
    local = bool(os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL"))
    return Config(signature_version="s3v4", s3={"addressing_style": "path" if local else "virtual"})


@lru_cache(maxsize=16)
def client(service: str) -> Any:
    """A cached boto3 client for `service` in the configured region."""
    session = boto3.session.Session(botocore_session=botocore_session())
    config = _s3_config() if service == "s3" else None
    return session.client(service, region_name=settings().aws_region, config=config)


@lru_cache(maxsize=1)
def connection() -> Connection:
    """A PynamoDB connection for transactions (TransactWrite/TransactGet), reused like a client."""
    return Connection(region=settings().aws_region)


class TransactionCancelled(Exception):
    """A transaction was cancelled (a condition failed or another write conflicted); its args
    hold the cancellation reasons' codes, one per action (None for an action that passed)."""


@contextmanager
def transaction() -> Iterator[TransactWrite]:
    """A TransactWrite whose cancellation (failed condition, conflicting writer) surfaces as
    TransactionCancelled; any other error is not a retryable outcome and passes unchanged."""
    try:
        with TransactWrite(connection=connection()) as tx:
            yield tx
    except TransactWriteError as exc:
        if exc.cause_response_code != "TransactionCanceledException":
            raise
        reasons = [reason.code if reason else None for reason in exc.cancellation_reasons]
        raise TransactionCancelled(reasons) from exc


def applied(write: Callable[[], object]) -> bool:
    """Run one conditional single-item write (save, update, delete): False when its condition
    failed and nothing was written; any other error passes unchanged. The one "condition failed
    -> False" wrapper: `saved = db.applied(lambda: item.save(condition=...))`."""
    try:
        write()
    except (PutError, UpdateError, DeleteError) as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return False
    return True


def batch_get(keys: list[tuple[type[Model], Any]]) -> list[Any]:
    """Items of several tables in one BatchGetItem (strongly consistent): one model or None per key.

    A hot path reads what it needs at once (a member and its receipt, coupons and their order's
    redemption) instead of one GetItem after another. Keys are hash keys (these tables have no
    range key); DynamoDB's unprocessed keys are asked for again.
    """
    wanted: dict[str, dict[str, Any]] = {}
    for model, hash_key in keys:
        attr = model._hash_key_attribute()
        key = {attr.attr_name: {attr.attr_type: attr.serialize(hash_key)}}
        request = wanted.setdefault(model.Meta.table_name, {"Keys": [], "ConsistentRead": True})
        if key not in request["Keys"]:
            request["Keys"].append(key)
    found: dict[tuple[str, str], Any] = {}
    models = {model.Meta.table_name: model for model, _ in keys}
    while wanted:
        answer = client("dynamodb").batch_get_item(RequestItems=wanted)
        for table, items in answer.get("Responses", {}).items():
            model = models[table]
            name = model._hash_key_attribute().attr_name
            for raw in items:
                found[(table, next(iter(raw[name].values())))] = model.from_raw_data(raw)
        wanted = answer.get("UnprocessedKeys") or {}
    return [found.get((model.Meta.table_name, model._hash_key_attribute().serialize(k))) for model, k in keys]


def set_value(attribute: Any, value: Any) -> Any:
    """An update action setting `attribute` to a Python value, encoded by the attribute itself.

    PynamoDB's `attribute.set(value)` takes any one-key dict whose key is a DynamoDB type tag
    (`{"N": 2}`, `{"S": 1}`, `{"M": ...}`) for an already-encoded value, so a map keyed by user
    data (a return's line ids) was stored wrong or refused. Handing it the encoded form always
    is the one safe way; `None` removes the attribute, as PynamoDB does.
    """
    encoded = None if value is None else attribute.serialize(value)
    if encoded is None:
        return attribute.remove()
    return attribute.set({attribute.attr_type: encoded})
