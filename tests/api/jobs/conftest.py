"""The loyalty contract tests' member and receipt helpers, for the job-run tests."""

from tests.api.loyalty.conftest import joined, receipt_body  # noqa: F401
