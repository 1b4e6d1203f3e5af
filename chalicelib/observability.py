"""Logger, Metrics and Tracer in one place. No-ops locally (env), real when deployed.

The Tracer is created at its first use, not at import: creating it loads the X-Ray SDK and
patches botocore (~0.1 s), which only the functions that trace (the nightly jobs) should pay on
a cold start.

Logs carry ids and counts only, never personal data (rule T15), at every log level:

- the AWS SDK and PynamoDB log whole requests and items at DEBUG, so their loggers stay at
  WARNING whatever POWERTOOLS_LOG_LEVEL says;
- messages and exceptions that reach the service's logger (also Chalice's own `app.log`, which
  shares its name) are scrubbed of e-mail addresses and IBANs, e.g. an SES error naming the
  recipient: once on the record (for any handler) and once on the formatted JSON line.
"""

from __future__ import annotations

import functools
import logging
import re
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = "loyalty-backend"

# Loggers of libraries that log request bodies or items (personal data) below WARNING.
QUIET_LOGGERS = ("pynamodb", "botocore", "boto3", "urllib3", "s3transfer")

_EMAIL = re.compile(r"[^\s@\"'<>()\[\],;:\\]+@[^\s@\"'<>()\[\],;:\\]+\.[A-Za-z]{2,}")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)\b")


def scrub(text: str) -> str:
    """`text` with every e-mail address and IBAN masked."""
    return _IBAN.sub("[iban]", _EMAIL.sub("[email]", text))


class ScrubPersonalData(logging.Filter):
    """Masks e-mail addresses and IBANs in a record's message and exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            message = record.getMessage()
            record.msg, record.args = scrub(message), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
        return True


class ScrubbingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON lines, scrubbed last (it formats exceptions itself, from exc_info)."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def quiet_libraries() -> None:
    for name in QUIET_LOGGERS:
        library = logging.getLogger(name)
        if library.level < logging.WARNING:  # also NOTSET, which would follow the root's level
            library.setLevel(logging.WARNING)


logger = Logger(service=SERVICE, logger_formatter=ScrubbingFormatter())
logging.getLogger(logger.name).addFilter(ScrubPersonalData())
quiet_libraries()
metrics = Metrics(namespace="LoyaltyBackend", service=SERVICE)
# `log_metrics` publishes per invocation; most requests emit none, which is no news.
warnings.filterwarnings("ignore", message="No application metrics to publish")

# The correlation id of each kind of handler (Chalice's middleware event types), as JMESPath into
# the Lambda event for `logger.inject_lambda_context`: the API Gateway request id, the EventBridge
# schedule event's id, the SQS message id (one message per batch), the S3 notification's request
# id (or the object's key where the local bridge sends none).
CORRELATION_PATHS = {
    "http": correlation_paths.API_GATEWAY_REST,
    "scheduled": correlation_paths.EVENT_BRIDGE,
    "sqs": "Records[0].messageId",
    "dynamodb": "Records[0].eventID",
    "pure_lambda": 'Records[0].responseElements."x-amz-request-id" || Records[0].s3.object.key',
}

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
        # Powertools types the value `numbers.Number`, which a float is only by ABC registration
        # (invisible to mypy).
        self.get().put_annotation(key=key, value=value)  # type: ignore[arg-type]


tracer = LazyTracer(service=SERVICE)

__all__ = ["CORRELATION_PATHS", "MetricUnit", "logger", "metrics", "scrub", "tracer"]
