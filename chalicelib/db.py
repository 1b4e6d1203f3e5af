"""AWS connections, created lazily (never at import) so tests can swap the endpoint.

boto3 and PynamoDB both follow AWS_ENDPOINT_URL (moto's server locally, in-process moto in tests).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import pynamodb.connection.base
from pynamodb.connection import Connection
from pynamodb.models import Model

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


pynamodb.connection.base.get_session = botocore_session


def table_name(name: str) -> str:
    """The stage's physical table name. Read at model import time (see config.py)."""
    return f"{settings().table_prefix}{name}"


@lru_cache(maxsize=16)
def client(service: str) -> Any:
    """A cached boto3 client for `service` in the configured region."""
    session = boto3.session.Session(botocore_session=botocore_session())
    return session.client(service, region_name=settings().aws_region)


@lru_cache(maxsize=1)
def connection() -> Connection:
    """A PynamoDB connection for transactions (TransactWrite/TransactGet), reused like a client."""
    return Connection(region=settings().aws_region)


def all_models() -> list[type[Model]]:
    """Every PynamoDB model of every domain: the one source for provisioning and the template."""
    from chalicelib.coupons import models as coupon_models
    from chalicelib.loyalty import models as loyalty_models
    from chalicelib.tradein import models as tradein_models

    found: list[type[Model]] = []
    for module in (loyalty_models, coupon_models, tradein_models):
        for name in getattr(module, "__all__", []):
            found.append(getattr(module, name))
    return found


def reset_connections() -> None:
    """Forget cached clients and PynamoDB connections (tests switch endpoints between cases)."""
    client.cache_clear()
    connection.cache_clear()
    for model in all_models():
        model._connection = None


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
