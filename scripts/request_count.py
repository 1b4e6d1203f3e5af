"""Count AWS requests per operation with a botocore event hook (tests and `make bench`).

boto3 clients and PynamoDB's connections are both built on sessions from
`chalicelib.db.botocore_session()`, and every new botocore session registers botocore's
BUILTIN_HANDLERS. One `before-call` handler is added there (once), so both kinds of client count;
cached clients are dropped when counting starts so that they are rebuilt with the hook.
`before-call` fires once per API call (retries of one call are not counted again).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import botocore.handlers

_active: list[Counter[str]] = []
_EVENT = "before-call"


def _count(event_name: str = "", **_kwargs: Any) -> None:
    # event_name: before-call.<service>.<Operation>
    _, _, rest = event_name.partition(".")
    service, _, operation = rest.partition(".")
    for counter in _active:
        counter[f"{service}.{operation}"] += 1


def install() -> None:
    """Register the hook for every botocore session created from now on and drop cached clients."""
    if (_EVENT, _count) not in botocore.handlers.BUILTIN_HANDLERS:
        botocore.handlers.BUILTIN_HANDLERS.append((_EVENT, _count))
        from chalicelib.tables import reset_connections

        reset_connections()


class Requests(Counter[str]):
    """Requests by `service.Operation`, e.g. `dynamodb.GetItem`."""

    def of(self, service: str) -> dict[str, int]:
        prefix = f"{service}."
        return {k.removeprefix(prefix): v for k, v in self.items() if k.startswith(prefix)}

    def total(self, service: str = "dynamodb") -> int:
        return sum(self.of(service).values())


@contextmanager
def count_requests() -> Iterator[Requests]:
    """with count_requests() as seen: ...; seen.total(), seen.of("dynamodb") -> {"GetItem": 1}."""
    install()
    seen = Requests()
    _active.append(seen)
    try:
        yield seen
    finally:
        _active.remove(seen)
