"""Nightly work of the loyalty domain."""

from datetime import date
from typing import Any


def run_nightly(today: date) -> dict[str, Any]:
    """Mature (L6) and expire (L7) the lots due on or before `today`."""
    return {"matured": 0, "expired": 0}
