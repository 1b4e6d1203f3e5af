"""The pure rules of the ledger: earning, dates, spending order, claw-back, balance."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.clock import AMSTERDAM, local_date
from chalicelib.ids import fingerprint
from chalicelib.loyalty import rules
from chalicelib.loyalty.rules import Lot
from chalicelib.sales import Line, Receipt
from tests.factories import loyalty_policy, make_line

POLICY = loyalty_policy()


def receipt(*lines: Line, channel: str = "store", discount: int = 0, returned: dict[str, int] | None = None) -> Receipt:
    return Receipt(
        receipt_id="R",
        channel=channel,  # type: ignore[arg-type]
        purchased_at=datetime(2017, 8, 10, 14, tzinfo=AMSTERDAM),
        lines=lines,
        coupon_discount_cents=discount,
        returned=returned or {},
    )


def lot(lot_id: str, remaining: int, expires: date, status: str = "available") -> Lot:
    return Lot(
        member_id="m",
        lot_id=lot_id,
        source="receipt",
        kind="base",
        points=remaining,
        remaining=remaining,
        earned_on=date(2017, 1, 1),
        matures_on=date(2017, 1, 31),
        expires_on=expires,
        status=status,  # type: ignore[arg-type]
    )


@pytest.mark.rule("L1", "G4")
def test_one_point_per_whole_euro():
    assert rules.points_for(1999, POLICY) == 19
    assert rules.points_for(99, POLICY) == 0
    assert rules.points_for(10_000, POLICY) == 100
    assert rules.points_for(-5, POLICY) == 0


@pytest.mark.rule("L1", "G4")
@given(st.integers(min_value=0, max_value=10**9))
@settings(max_examples=50)
def test_points_never_exceed_the_whole_euros(cents):
    points = rules.points_for(cents, POLICY)
    assert isinstance(points, int)
    assert points * 100 <= cents < (points + 1) * 100


@pytest.mark.rule("L2")
def test_only_retailer_products_earn_minus_coupon_discounts():
    r = receipt(
        make_line("p", 50_000),
        make_line("svc", 5_000, kind="service"),
        make_line("sub", 2_000, kind="subscription"),
        make_line("ins", 9_900, kind="insurance"),
        make_line("gift", 2_500, kind="posa"),
        make_line("ext", 30_000, seller="external"),
        make_line("p2", 1_050, quantity=2),
        discount=2_000,
    )
    assert rules.eligible_cents(r) == 50_000 + 2_100 - 2_000
    assert rules.receipt_points(r, POLICY) == 501


@pytest.mark.rule("L2")
def test_discount_larger_than_eligible_amount_gives_zero_not_negative():
    assert rules.receipt_points(receipt(make_line(price=1_000), discount=4_000), POLICY) == 0


@pytest.mark.rule("L3")
@pytest.mark.parametrize("channel", ["marketplace", "outlet"])
def test_marketplace_and_outlet_earn_nothing(channel):
    assert rules.receipt_points(receipt(make_line(price=80_000), channel=channel), POLICY) == 0


@pytest.mark.rule("L3")
@pytest.mark.parametrize("channel", ["store", "webshop", "phone_subscriptions"])
def test_other_channels_earn(channel):
    assert rules.receipt_points(receipt(make_line(price=80_000), channel=channel), POLICY) == 800


@pytest.mark.rule("L5")
def test_external_seller_and_outlet_receipts_cannot_be_registered():
    assert rules.registrable(receipt(make_line()))
    assert not rules.registrable(receipt(make_line(seller="external")))
    assert not rules.registrable(receipt(make_line(), channel="marketplace"))
    assert not rules.registrable(receipt(make_line(), channel="outlet"))


@pytest.mark.rule("L6", "G2")
def test_points_mature_thirty_days_after_purchase():
    assert rules.matures_on(date(2017, 8, 10), POLICY) == date(2017, 9, 9)
    # G2: the purchase day is day 1 of the return period, so day 30 is 2017-09-08: still pending.
    assert not rules.is_due_to_mature(date(2017, 9, 9), date(2017, 8, 10) + timedelta(days=30 - 1))
    assert rules.is_due_to_mature(date(2017, 9, 9), date(2017, 9, 9))
    assert rules.is_due_to_mature(date(2017, 9, 9), date(2017, 9, 20))


@pytest.mark.rule("L7")
def test_validity_ends_the_day_before_the_anniversary():
    assert rules.base_expires_on(date(2017, 8, 10), POLICY) == date(2019, 8, 9)
    assert rules.event_expires_on(date(2017, 8, 10), POLICY) == date(2018, 8, 9)
    assert rules.event_expires_on(date(2017, 1, 1), POLICY) == date(2017, 12, 31)


@pytest.mark.rule("L7")
def test_validity_from_29_february_ends_on_28_february():
    assert rules.event_expires_on(date(2016, 2, 29), POLICY) == date(2017, 2, 28)
    assert rules.base_expires_on(date(2016, 2, 29), POLICY) == date(2018, 2, 28)
    assert rules.valid_until(date(2016, 2, 29), 4) == date(2020, 2, 28)
    assert rules.event_expires_on(date(2019, 3, 1), POLICY) == date(2020, 2, 29)


@pytest.mark.rule("L7")
def test_points_expire_on_the_first_day_after_their_last_valid_day():
    assert not rules.is_due_to_expire(date(2018, 8, 9), date(2018, 8, 9))
    assert rules.is_due_to_expire(date(2018, 8, 9), date(2018, 8, 10))


@pytest.mark.rule("G1")
def test_purchase_date_is_the_amsterdam_date():
    late_evening_utc = datetime(2017, 8, 9, 22, 30, tzinfo=UTC)  # 00:30 on the 10th in Amsterdam
    assert local_date(late_evening_utc) == date(2017, 8, 10)
    assert rules.matures_on(local_date(late_evening_utc), POLICY) == date(2017, 9, 9)


@pytest.mark.rule("L10")
def test_spend_takes_the_soonest_expiring_lots_first():
    lots = [
        lot("late", 500, date(2019, 1, 1)),
        lot("soon", 100, date(2018, 1, 1)),
        lot("mid", 300, date(2018, 6, 1)),
        lot("pending", 900, date(2017, 12, 1), status="pending"),
    ]
    assert rules.plan_spend(lots, 350, date(2017, 9, 1)) == [("soon", 100), ("mid", 250)]
    assert rules.plan_spend(lots, 901, date(2017, 9, 1)) == []


@pytest.mark.rule("L10", "L7")
def test_spend_never_uses_points_past_their_last_valid_day():
    lots = [lot("old", 500, date(2017, 8, 31)), lot("new", 100, date(2019, 1, 1))]
    assert rules.plan_spend(lots, 100, date(2017, 9, 1)) == [("new", 100)]
    assert rules.plan_spend(lots, 200, date(2017, 9, 1)) == []


@pytest.mark.rule("L10")
@given(
    st.lists(st.tuples(st.integers(0, 400), st.integers(0, 800)), min_size=0, max_size=12),
    st.integers(1, 3000),
)
@settings(max_examples=60)
def test_a_spend_plan_covers_exactly_the_points_or_nothing(specs, points):
    today = date(2017, 1, 1)
    lots = [lot(f"l{i}", rem, today + timedelta(days=days)) for i, (rem, days) in enumerate(specs)]
    plan = rules.plan_spend(lots, points, today)
    total = sum(lot.remaining for lot in lots)
    if total < points:
        assert plan == []
        return
    assert sum(n for _, n in plan) == points
    by_id = {x.lot_id: x for x in lots}
    assert all(0 < n <= by_id[i].remaining for i, n in plan)
    expiries = [by_id[i].expires_on for i, _ in plan]
    assert expiries == sorted(expiries)
    untouched = [x for x in lots if x.lot_id not in dict(plan) and x.remaining > 0]
    assert all(x.expires_on >= expiries[-1] for x in untouched)


@pytest.mark.rule("L11")
def test_claw_back_takes_own_lot_then_soonest_others_then_debt():
    today = date(2017, 10, 1)
    own = lot("receipt#R", 50, date(2019, 8, 9))
    others = [own, lot("a", 30, date(2018, 1, 1)), lot("b", 10, date(2018, 6, 1))]
    plan = rules.plan_clawback(120, own, others, today, max_lots=90)
    assert plan.takes == (("receipt#R", 50), ("a", 30), ("b", 10))
    assert plan.debt == 30
    assert rules.plan_clawback(20, own, others, today, max_lots=90) == rules.Clawback((("receipt#R", 20),), 0)


@pytest.mark.rule("L11")
def test_claw_back_over_more_lots_than_a_transaction_holds_leaves_the_rest_as_debt():
    today = date(2017, 10, 1)
    others = [lot(f"l{i}", 1, date(2018, 1, 1) + timedelta(days=i)) for i in range(5)]
    plan = rules.plan_clawback(5, None, others, today, max_lots=3)
    assert len(plan.takes) == 3
    assert plan.debt == 2


@pytest.mark.rule("L11")
def test_debt_is_settled_first_from_points_that_become_available():
    assert rules.settle_debt(0, 100) == (0, 100)
    assert rules.settle_debt(30, 100) == (30, 70)
    assert rules.settle_debt(300, 100) == (100, 0)


@pytest.mark.rule("L12")
def test_expiring_lists_available_points_within_ninety_days_per_date():
    today = date(2017, 10, 1)
    lots = [
        lot("a", 10, date(2017, 12, 1)),
        lot("b", 5, date(2017, 12, 1)),
        lot("c", 7, date(2017, 12, 30)),  # today + 90
        lot("d", 9, date(2017, 12, 31)),  # beyond the window
        lot("e", 4, date(2017, 11, 1), status="pending"),
        lot("f", 0, date(2017, 11, 1)),
    ]
    assert rules.expiring(lots, today, POLICY) == [
        rules.Expiring(15, date(2017, 12, 1)),
        rules.Expiring(7, date(2017, 12, 30)),
    ]


def test_return_excess_names_lines_returned_beyond_purchase():
    r = receipt(make_line("1", quantity=2), returned={"1": 1})
    assert rules.return_excess(r, [("1", 1)]) == []
    assert rules.return_excess(r, [("1", 1), ("1", 1)]) == [{"line_id": "1", "bought": 2, "returned": 1, "asked": 2}]
    assert rules.return_excess(r, [("9", 1)])[0]["bought"] == 0


def test_shards_are_stable_and_in_range():
    assert rules.shard_of("m#lot", 8) == rules.shard_of("m#lot", 8)
    assert {rules.shard_of(f"m#{i}", 8) for i in range(200)} == set(range(8))


def test_fingerprint_ignores_key_order():
    assert fingerprint({"a": 1, "b": [1, 2]}) == fingerprint({"b": [1, 2], "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})
