"""Shared calendar arithmetic: validity periods end the day before the anniversary (API.md)."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.dates import anniversary, valid_until


def test_leap_day_anniversary_falls_on_the_first_of_march():
    assert anniversary(date(2016, 2, 29), 1) == date(2017, 3, 1)
    assert anniversary(date(2016, 2, 29), 4) == date(2020, 2, 29)
    assert valid_until(date(2016, 2, 29), 1) == date(2017, 2, 28)


def test_one_year_from_a_purchase_ends_the_day_before_its_anniversary():
    assert valid_until(date(2017, 8, 10), 1) == date(2018, 8, 9)
    assert valid_until(date(2017, 8, 10), 2) == date(2019, 8, 9)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)), st.integers(min_value=1, max_value=10))
def test_validity_is_n_years_less_a_day(start, years):
    end = valid_until(start, years)
    assert end + timedelta(days=1) == anniversary(start, years)
    assert 365 * years - 1 <= (end - start).days <= 366 * years
