"""Working days (G3) and the working-day deadlines of T7 and T10, on the real Dutch calendar."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.tradein.workdays import add_working_days, is_working_day


@pytest.mark.rule("G3")
@pytest.mark.parametrize(
    "holiday",
    [
        date(2018, 1, 1),  # Nieuwjaarsdag on a Monday
        date(2017, 4, 17),  # Tweede paasdag (Easter Monday)
        date(2017, 4, 27),  # Koningsdag on a Thursday
        date(2017, 5, 25),  # Hemelvaartsdag
        date(2017, 6, 5),  # Tweede pinksterdag
        date(2017, 12, 25),  # Eerste kerstdag
        date(2017, 12, 26),  # Tweede kerstdag
        date(2020, 5, 5),  # Bevrijdingsdag in a lustrum year
        date(2025, 5, 5),
    ],
)
def test_dutch_public_holidays_on_weekdays_are_not_working_days(holiday: date) -> None:
    assert not is_working_day(holiday)


@pytest.mark.rule("G3")
def test_ordinary_weekdays_are_working_days_and_weekends_are_not() -> None:
    monday = date(2017, 8, 28)
    week = [monday + timedelta(days=i) for i in range(7)]
    assert [is_working_day(d) for d in week] == [True, True, True, True, True, False, False]


@pytest.mark.rule("G3")
def test_days_around_koningsdag_are_working_days() -> None:
    assert is_working_day(date(2017, 4, 26))
    assert is_working_day(date(2017, 4, 28))


@pytest.mark.rule("G3")
def test_koningsdag_on_a_sunday_moves_to_saturday_the_26th_and_the_monday_stays_a_working_day() -> None:
    # 27 April 2025 is a Sunday: Koningsdag is Saturday the 26th, never moved to the Monday.
    assert date(2025, 4, 27).weekday() == 6
    assert not is_working_day(date(2025, 4, 26))
    assert is_working_day(date(2025, 4, 28))
    assert is_working_day(date(2014, 4, 28))


@pytest.mark.rule("G3")
def test_liberation_day_outside_a_lustrum_year_is_a_working_day() -> None:
    # The library's Dutch calendar has Bevrijdingsdag as a day off every fifth year only.
    assert is_working_day(date(2017, 5, 5))
    assert is_working_day(date(2026, 5, 5))


@pytest.mark.rule("G3", "T7")
def test_seven_working_days_skip_koningsdag() -> None:
    # E-mail on Friday 21 April 2017: Mon 24 (1), Tue 25 (2), Wed 26 (3), Koningsdag, Fri 28 (4),
    # Mon 1 May (5), Tue 2 (6), Wed 3 (7).
    assert add_working_days(date(2017, 4, 21), 7) == date(2017, 5, 3)


@pytest.mark.rule("G3", "T7")
def test_seven_working_days_across_christmas_and_new_year() -> None:
    # Fri 22 Dec 2017: 25/26 Dec and 1 Jan are off -> 27, 28, 29 Dec, 2, 3, 4, 5 Jan.
    assert add_working_days(date(2017, 12, 22), 7) == date(2018, 1, 5)


@pytest.mark.rule("G3", "T7")
def test_the_day_the_mail_went_out_is_not_counted_and_a_weekend_start_counts_from_monday() -> None:
    assert add_working_days(date(2017, 8, 28), 1) == date(2017, 8, 29)  # Monday -> Tuesday
    assert add_working_days(date(2017, 9, 1), 1) == date(2017, 9, 4)  # Friday -> Monday
    assert add_working_days(date(2017, 9, 2), 1) == date(2017, 9, 4)  # Saturday -> Monday
    assert add_working_days(date(2017, 9, 2), 7) == date(2017, 9, 12)


@pytest.mark.rule("G3", "T10")
def test_fourteen_working_days_after_a_rejection_skip_easter_and_koningsdag() -> None:
    # Rejected Thu 13 April 2017: Good Friday and Easter Monday off, Tue 18 is day 1; Koningsdag
    # (27 April) is skipped; 5 May 2017 is no holiday. Day 14 is Monday 8 May.
    assert add_working_days(date(2017, 4, 13), 14) == date(2017, 5, 8)


@pytest.mark.rule("G3", "T10")
def test_fourteen_working_days_in_a_plain_stretch_are_twenty_calendar_days() -> None:
    assert add_working_days(date(2017, 9, 25), 14) == date(2017, 10, 13)


def test_zero_days_is_the_start_and_negative_is_refused() -> None:
    assert add_working_days(date(2017, 9, 2), 0) == date(2017, 9, 2)
    with pytest.raises(ValueError):
        add_working_days(date(2017, 9, 2), -1)


_dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31))
_counts = st.integers(min_value=1, max_value=40)


@pytest.mark.rule("G3", "T7", "T10")
@settings(max_examples=150, deadline=None)
@given(start=_dates, n=_counts)
def test_result_is_a_working_day_strictly_after_start_with_exactly_n_working_days(start: date, n: int) -> None:
    end = add_working_days(start, n)
    assert end > start
    assert is_working_day(end)
    between = [start + timedelta(days=i) for i in range(1, (end - start).days + 1)]
    assert sum(is_working_day(d) for d in between) == n
    # Weekends at most double the span; a holiday cluster (Easter, Christmas) adds a few days.
    assert (end - start).days <= 2 * n + 6


@pytest.mark.rule("G3")
@settings(max_examples=100, deadline=None)
@given(start=_dates, a=_counts, b=_counts)
def test_monotone_in_n_and_composable(start: date, a: int, b: int) -> None:
    assert add_working_days(start, a) < add_working_days(start, a + 1)
    assert add_working_days(add_working_days(start, a), b) == add_working_days(start, a + b)


@pytest.mark.rule("G3")
@settings(max_examples=100, deadline=None)
@given(start=_dates, n=_counts)
def test_monotone_in_start(start: date, n: int) -> None:
    assert add_working_days(start, n) <= add_working_days(start + timedelta(days=1), n)
