"""One bad item never stops a nightly run or an S3 event (API.md "Jobs").

Each item runs inside `failures.item(step, item_id)`: an exception is logged with the item's id
and a reason free of personal data (an error code or exception type, never its message: SES
messages name the recipient, T15), counted in the `NightlyItemFailed` metric and kept for the
run's summary as `{"id", "reason"}`. Whatever the item owed stays owed (status, outbox), so the
next run retries it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from aws_lambda_powertools.metrics import single_metric
from botocore.exceptions import ClientError

from chalicelib.errors import AppError
from chalicelib.mail import MailNotSent
from chalicelib.observability import MetricUnit, logger

METRIC = "NightlyItemFailed"
NAMESPACE = "LoyaltyBackend"


def failure_reason(exc: BaseException) -> str:
    """A reason without personal data: the AWS error code, our error code, or the exception type."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or type(exc).__name__)
    if isinstance(exc, AppError | MailNotSent):
        return exc.code
    return type(exc).__name__


class ItemFailures:
    """The failed items of one run of `job`."""

    def __init__(self, job: str) -> None:
        self.job = job
        self.items: list[dict[str, str]] = []

    @contextmanager
    def item(self, step: str, item_id: str) -> Iterator[None]:
        try:
            yield
        except Exception as exc:  # isolation is the point: any failure of one item
            reason = failure_reason(exc)
            logger.warning(
                "item failed; retried next run",
                extra={"job": self.job, "step": step, "item_id": item_id, "reason": reason},
            )
            with single_metric(
                name=METRIC,
                unit=MetricUnit.Count,
                value=1,
                namespace=NAMESPACE,
                default_dimensions={"job": self.job, "step": step},
            ):
                pass
            self.items.append({"id": item_id, "reason": f"{step}: {reason}"})
