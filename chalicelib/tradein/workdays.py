"""Working days (G3): Monday to Friday except Dutch public holidays.

The holidays come from the maintained `holidays` library (its Dutch calendar), never from a
hand-written list. Pure: no clock, no env, no I/O.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

_SATURDAY = 5


@lru_cache(maxsize=64)
def _dutch_holidays(year: int) -> frozenset[date]:
    """The Dutch public holidays of one year (G3), as the `holidays` library knows them."""
    import holidays  # ~0.07 s to import: at first use, not on every cold start

    return frozenset(holidays.country_holidays("NL", years=year))


def is_working_day(day: date) -> bool:
    """G3: a working day is Monday to Friday and not a Dutch public holiday."""
    return day.weekday() < _SATURDAY and day not in _dutch_holidays(day.year)


def add_working_days(start: date, n: int) -> date:
    """G3/T7/T10: the n-th working day after `start`; the next working day is day 1.

    `start` itself never counts, even when it is a working day (deadlines count from the day
    the e-mail went out, API.md). `add_working_days(sent_on, 7)` is the last day to complete an
    incomplete claim (T7); `add_working_days(rejected_on, 14)` the last day to ask for the
    device back (T10). `n == 0` returns `start`; a negative `n` is a ValueError.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    day = start
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day
