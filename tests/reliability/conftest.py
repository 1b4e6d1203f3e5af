"""The reliability suite (`make reliability`): every test here carries the `reliability` marker
and reports its figures with `figure(...)`; they are printed at the end of the run and written to
build/reliability.json (the README's "Reliability" section quotes them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.api.coupons.conftest import member  # noqa: F401 - a fixture, found by name
from tests.integration.tradein.helpers import tradein  # noqa: F401 - a fixture, found by name

_FIGURES: dict[str, Any] = {}
_OUT = Path(__file__).resolve().parents[2] / "build" / "reliability.json"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.reliability)


@pytest.fixture
def figure(request: pytest.FixtureRequest) -> Any:
    """figure("access matrix", cases=312, failures=0) records one part's figures. They travel
    with the test's report (user_properties), so they also reach the summary from xdist workers."""

    def record(part: str, **values: Any) -> None:
        plain = json.loads(json.dumps(values, default=str))
        request.node.user_properties.append(("figure", [part, plain]))

    return record


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "teardown":
        return
    for name, value in report.user_properties:
        if name == "figure":
            part, values = value
            _FIGURES.setdefault(part, {}).update(values)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _FIGURES:
        return
    terminalreporter.section("reliability figures")
    for part, values in sorted(_FIGURES.items()):
        terminalreporter.write_line(f"{part}: " + ", ".join(f"{k}={v}" for k, v in values.items()))
    _OUT.parent.mkdir(exist_ok=True)
    _OUT.write_text(json.dumps(_FIGURES, indent=2, sort_keys=True, default=str) + "\n")
