from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from chalicelib.tradein import service
from tests.integration.tradein.helpers import IN_WINDOW, Driver


@pytest.fixture
def tradein(client: Any, api: Any, auth: Callable[..., dict[str, str]], travel: Any) -> Driver:
    """The seeded campaigns, the clock inside the 2017 claim's registration window, a driver."""
    travel(IN_WINDOW)
    service.seed_campaigns(date(2017, 9, 12))
    return Driver(client, api, auth)
