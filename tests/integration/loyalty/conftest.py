"""Fixtures of the loyalty integration tests: members and receipts through the service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from chalicelib import clock
from chalicelib.clock import AMSTERDAM
from chalicelib.loyalty import accounts, earning, lot_store, member_store, rules
from chalicelib.sales import Receipt
from tests.factories import make_line


def make_receipt(receipt_id: str, when: str = "2017-08-10T14:00", member_id: str | None = None, **kw: Any) -> Receipt:
    lines = kw.pop("lines", None) or (make_line(),)
    return Receipt(
        receipt_id=receipt_id,
        channel=kw.pop("channel", "store"),
        purchased_at=datetime.fromisoformat(when).replace(tzinfo=AMSTERDAM),
        lines=tuple(lines),
        member_id=member_id,
        **kw,
    )


@pytest.fixture
def member(aws: None, travel: Callable[..., Any]) -> Callable[..., accounts.Profile]:
    """member("m-1", sharing=False) joins on the current (travelled) date."""

    def join(member_id: str = "m-1", sharing: bool = False) -> accounts.Profile:
        return accounts.join(member_id, f"{member_id}@example.com", "Ann", "Smit", None, True, sharing)

    return join


@pytest.fixture
def buy(aws: None) -> Callable[..., earning.ReceiptResult]:
    """buy("R1", "m-1", price=..., when=...) records a store receipt for a member."""

    def record(receipt_id: str, member_id: str | None, **kw: Any) -> earning.ReceiptResult:
        price = kw.pop("price", 10_000)
        lines = kw.pop("lines", None) or (make_line(price=price),)
        receipt = make_receipt(receipt_id, member_id=member_id, lines=lines, **kw)
        result, _ = earning.record_receipt(receipt, None, {"receipt_id": receipt_id, "repr": repr(receipt)})
        return result

    return record


def assert_ledger_consistent(member_id: str) -> None:
    """The invariant of the ledger: the member's balances equal the sum of its lots."""
    member = member_store.get_member(member_id)
    assert member is not None
    lots = lot_store.lots_of(member_id)
    expected = rules.balance_of(lots, member.balance.debt)
    assert member.balance == expected
    assert member.balance.available >= 0
    assert member.balance.pending >= 0
    # L12: the expiring summary on the member item follows the lots too
    found = member_store.get_member_and_expiring(member_id)
    assert found is not None
    today, pol = clock.today(), accounts.policy()
    assert rules.expiring_totals(found[1], today, pol) == rules.expiring(lots, today, pol)
