"""Calendar arithmetic every domain shares (API.md conventions, G2). Pure: no clock, no env."""

from __future__ import annotations

from datetime import date, timedelta


def anniversary(start: date, years: int) -> date:
    """The N-th anniversary of `start`; 29 February falls on 1 March in a common year."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return date(start.year + years, 3, 1)


def valid_until(start: date, years: int) -> date:
    """API.md: a validity of N years from D ends on the day before D's N-th anniversary."""
    return anniversary(start, years) - timedelta(days=1)
