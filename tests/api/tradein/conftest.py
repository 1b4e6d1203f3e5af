"""The trade-in tests' `tradein` fixture, shared with the API tests (helpers.py)."""

from tests.integration.tradein.helpers import tradein  # noqa: F401 - a fixture, found by name
