"""Two orders race for one coupon over real HTTP against moto's server: exactly one wins (C7)."""

from __future__ import annotations

import pytest

from chalicelib import clock, flows
from chalicelib.coupons import service, store
from chalicelib.coupons.models import RedemptionModel
from chalicelib.errors import Conflict
from chalicelib.loyalty import accounts
from tests.nights import loyalty_night
from tests.threads import race

from .conftest import NOW, make_line, record_receipt

BASKET = (make_line("tv", 90_000),)
RACERS = 6


@pytest.mark.slow
@pytest.mark.rule("C7")
def test_concurrent_redemptions_of_one_coupon_have_exactly_one_winner(moto_server, travel):
    """One test (the server's provisioning is the slow part): first several orders race for one
    coupon, then several retries of one order race for another, then several retries of one
    conversion (one Idempotency-Key) race: one coupon, its points spent once."""
    travel(NOW)
    accounts.join("m-1", "m-1@example.com", "Ann", "Smit", None, False, False)
    record_receipt("earn", "m-1", (make_line(price=300_000),), "2017-07-01T12:00")
    loyalty_night(clock.today())
    contested = flows.convert_points("m-1", 2000, "k-1").coupon.code
    retried = flows.convert_points("m-1", 2000, "k-2").coupon.code

    outcomes = race(
        [lambda i=i: service.redeem(f"R-{i}", "m-1", "store", BASKET, [contested]) for i in range(RACERS)]  # type: ignore[misc]
    )
    winners = [o for o in outcomes if isinstance(o, service.Redeemed)]
    losers = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(winners) == 1, outcomes
    assert len(losers) == RACERS - 1, outcomes
    assert {o.code for o in losers} <= {"COUPON_NOT_REDEEMABLE", "CONCURRENT_UPDATE"}
    coupon = store.get_coupon(contested)
    assert coupon is not None
    assert (coupon.status, coupon.redeemed_receipt_id) == ("used", winners[0].receipt_id)
    assert [r.receipt_id for r in RedemptionModel.scan()] == [winners[0].receipt_id]

    outcomes = race([lambda: service.redeem("R-same", "m-1", "store", BASKET, [retried]) for _ in range(RACERS)])
    assert all(isinstance(o, service.Redeemed) for o in outcomes), outcomes
    assert {(o.receipt_id, o.codes, o.discount_cents) for o in outcomes} == {("R-same", (retried,), 2000)}

    outcomes = race([lambda: flows.convert_points("m-1", 2000, "k-3") for _ in range(RACERS)])
    assert all(isinstance(o, service.Issued) for o in outcomes), outcomes
    assert len({o.coupon.code for o in outcomes}) == 1
    assert sum(o.created for o in outcomes) == 1
    assert len(store.all_member_codes("m-1")) == 3
    assert accounts.profile("m-1").member.balance.available == 3250 - 3000
