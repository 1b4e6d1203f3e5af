"""The ledger invariant over random histories: the balances equal the sum of the lots (and the
available balance is never negative) after every purchase, return, conversion, maturation,
expiry and consent, on moto, in CI."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib import db, flows
from chalicelib.clock import AMSTERDAM
from chalicelib.errors import Unprocessable
from chalicelib.loyalty import accounts, earning, member_store, spending
from tests.integration.loyalty.conftest import assert_ledger_consistent, make_line, make_receipt
from tests.nights import loyalty_night

EXAMPLES = itertools.count()

ops = st.lists(
    st.one_of(
        st.tuples(st.just("buy"), st.sampled_from((0, 1)), st.integers(100, 90_000), st.integers(1, 3)),
        st.tuples(st.just("return"), st.integers(0, 20), st.integers(1, 3)),
        st.tuples(st.just("spend"), st.sampled_from((0, 1)), st.integers(1, 900)),
        st.tuples(st.just("night"), st.integers(1, 400)),
        st.tuples(st.just("consent"), st.sampled_from((0, 1))),
    ),
    min_size=1,
    max_size=10,
)


@pytest.fixture(autouse=True)
def quiet_reactions(monkeypatch):
    monkeypatch.setattr("chalicelib.coupons.service.restore_for_return", lambda e: [])
    monkeypatch.setattr("chalicelib.tradein.inspection.void_for_return", lambda e: [])


@pytest.mark.rule("L6", "L7", "L10", "L11", "L12")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=ops)
def test_balances_always_equal_the_sum_of_the_lots(aws, steps):
    """One moto for all examples (provisioning per example costs seconds): each example has its
    own members and receipts, and ends with every lot matured or expired, out of the job's way."""
    n = next(EXAMPLES)
    members = (f"m-a-{n}", f"m-b-{n}")
    start = datetime(2017, 1, 10, 12, tzinfo=AMSTERDAM)
    with time_machine.travel(start, tick=False) as clock:
        now = start
        for member_id in members:
            accounts.join(member_id, f"{member_id}@example.com", "A", "B", None, False, False)
        receipts: list[tuple[str, int]] = []
        for i, step in enumerate(steps):
            if step[0] == "buy":
                _, who, price, quantity = step
                receipt = make_receipt(f"R{n}-{i}", member_id=members[who], lines=(make_line("1", price, quantity),))
                receipt = receipt.__class__(**{**receipt.__dict__, "purchased_at": now})
                earning.record_receipt(receipt, None, {"i": i})
                receipts.append((f"R{n}-{i}", quantity))
            elif step[0] == "return" and receipts:
                receipt_id, _bought = receipts[step[1] % len(receipts)]
                try:
                    flows.record_return(receipt_id, f"ret{n}-{i}", now, [("1", step[2])], {"i": i})
                except Unprocessable as refused:
                    assert refused.code == "RETURN_EXCEEDS_PURCHASE"
            elif step[0] == "spend":
                try:
                    with db.transaction() as tx:
                        spending.add_spend(
                            tx, spending.plan_spend(members[step[1]], step[2], now.date(), f"coupon:{i}")
                        )
                except Unprocessable as refused:
                    assert refused.code == "INSUFFICIENT_POINTS"
            elif step[0] == "night":
                now += timedelta(days=step[1])
                clock.move_to(now)
                loyalty_night(now.date())
            elif step[0] == "consent":
                accounts.update_profile(members[step[1]], {"partner_data_sharing": True})
            for member_id in members:
                assert_ledger_consistent(member_id)
        # a last run long after everything: nothing pending, nothing left to expire
        now += timedelta(days=3 * 366)
        clock.move_to(now)
        loyalty_night(now.date())
        for member_id in members:
            assert_ledger_consistent(member_id)
            balance = member_store.get_member(member_id).balance
            assert (balance.pending, balance.available) == (0, 0)
