"""The one source of "now" (rule G1: Europe/Amsterdam). Read at call time, so tests can travel."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def now() -> datetime:
    """The current instant in Amsterdam time."""
    return datetime.now(UTC).astimezone(AMSTERDAM)


def today() -> date:
    """Today's local calendar date in Amsterdam (G1)."""
    return now().date()


def local_date(instant: datetime) -> date:
    """The Amsterdam calendar date of an aware instant (G1)."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime")
    return instant.astimezone(AMSTERDAM).date()


def event_date(event: Any) -> date:
    """'Today' of a scheduled event: the Amsterdam date of its `time` (schedules run in UTC)."""
    raw = getattr(event, "time", None) or (event.get("time") if isinstance(event, dict) else None)
    if not raw:
        return today()
    instant = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return local_date(instant)


def iso(instant: datetime) -> str:
    """ISO 8601 with offset, in Amsterdam time, seconds precision."""
    return instant.astimezone(AMSTERDAM).isoformat(timespec="seconds")
