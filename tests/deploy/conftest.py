"""The IAM recorder is installed as soon as this folder is collected, so it sees the calls of every
test that runs in the session; the check of those calls is moved to the very end of the run."""

from __future__ import annotations

import pytest

from tests.deploy import iam

iam.install()

LAST = "tests/deploy/test_iam.py::test_every_recorded_call_is_allowed_for_its_lambda"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.nodeid == LAST)
