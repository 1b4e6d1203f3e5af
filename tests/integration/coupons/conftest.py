"""Fixtures of the coupons integration tests: members with available points through the loyalty
service (welcome points, a matured purchase), and baskets in the sales vocabulary."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from chalicelib import clock
from chalicelib.clock import AMSTERDAM
from chalicelib.loyalty import accounts, earning
from chalicelib.sales import Line, Receipt
from tests.factories import make_line
from tests.nights import loyalty_night

NOW = "2017-08-10T14:00"


def record_receipt(
    receipt_id: str, member_id: str | None, lines: tuple[Line, ...], when: str, discount: int = 0
) -> earning.ReceiptResult:
    receipt = Receipt(
        receipt_id=receipt_id,
        channel="store",
        purchased_at=datetime.fromisoformat(when).replace(tzinfo=AMSTERDAM),
        lines=lines,
        member_id=member_id,
        coupon_discount_cents=discount,
    )
    result, _ = earning.record_receipt(receipt, None, {"receipt_id": receipt_id, "repr": repr(receipt)})
    return result


def available(member_id: str) -> int:
    return accounts.profile(member_id).member.balance.available


@pytest.fixture
def now(aws: None, travel: Callable[..., Any]) -> str:
    """Every coupons integration test starts on 2017-08-10 14:00 in Amsterdam."""
    travel(NOW)
    return NOW


@pytest.fixture
def member(now: str) -> Callable[..., str]:
    """member("m-1", euros=1000): joined (250 welcome points) plus a purchase of `euros` made 40
    days ago and matured by the nightly run, so 250 + euros points are available."""

    def make(member_id: str = "m-1", euros: int = 0) -> str:
        accounts.join(member_id, f"{member_id}@example.com", "Ann", "Smit", None, False, False)
        if euros:
            record_receipt(f"earn-{member_id}", member_id, (make_line(price=euros * 100),), "2017-07-01T12:00")
            loyalty_night(clock.today())
        return member_id

    return make
