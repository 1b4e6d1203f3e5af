"""Logger, Metrics and Tracer in one place. No-ops locally (env), real when deployed.

Logs carry ids and counts only, never personal data (rule T15).

The Tracer is created at its first use, not at import: creating it loads the X-Ray SDK and
patches botocore (~0.1 s), which only the functions that trace (the nightly jobs) should pay on
a cold start.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = "loyalty-backend"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace="LoyaltyBackend", service=SERVICE)

F = TypeVar("F", bound=Callable[..., Any])


class LazyTracer:
    """Powertools' Tracer, created when a traced function first runs or an annotation is put."""

    def __init__(self, service: str) -> None:
        self._service = service
        self._tracer: Tracer | None = None

    def get(self) -> Tracer:
        if self._tracer is None:
            self._tracer = Tracer(service=self._service)
        return self._tracer

    def capture_method(self, method: F) -> F:
        traced: list[Callable[..., Any]] = []

        @functools.wraps(method)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not traced:
                traced.append(self.get().capture_method(method))
            return traced[0](*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    def put_annotation(self, key: str, value: str | float | bool) -> None:
        self.get().put_annotation(key=key, value=value)


tracer = LazyTracer(service=SERVICE)

__all__ = ["MetricUnit", "logger", "metrics", "tracer"]
