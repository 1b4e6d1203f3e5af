"""Converting points into coupons on moto: tiers, one transaction with the spend, idempotency."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib import flows
from chalicelib.coupons import rules, service, store
from chalicelib.coupons.models import CouponModel, CouponRequestModel
from chalicelib.errors import Conflict, Gone, NotFound, Unprocessable
from chalicelib.loyalty import accounts, lot_store

from .conftest import available


@pytest.mark.rule("C1", "C2", "L10")
def test_a_tier_costs_its_points_and_the_coupon_lasts_a_year(member):
    m = member("m-1", euros=1000)
    assert available(m) == 1250
    issued = flows.convert_points(m, 2000, "k-1")
    assert issued.created
    c = issued.coupon
    assert (c.amount_cents, c.points, c.status) == (2000, 1000, "active")
    assert (c.issued_on, c.expires_on) == (date(2017, 8, 10), date(2018, 8, 9))
    assert rules.code_is_well_formed(c.code)
    assert available(m) == 250
    # L10: the welcome lot (expires 2018-08-09) went first, then 750 of the purchase lot (2019)
    assert sorted((lot.kind, lot.remaining) for lot in lot_store.lots_of(m)) == [("base", 250), ("event", 0)]
    entries, _ = accounts.history(m, 50, None)
    spent = [e for e in entries if e.type == "spent"]
    assert [(e.points, e.cause) for e in spent] == [(-1000, f"coupon:{c.code}")]
    big = flows.convert_points(member("m-2", euros=2000), 4000, "k-1").coupon
    assert (big.amount_cents, big.points) == (4000, 2000)


@pytest.mark.rule("C1")
def test_an_amount_without_a_tier_is_refused(member):
    m = member("m-1", euros=5000)
    with pytest.raises(Unprocessable) as refused:
        flows.convert_points(m, 3000, "k-1")
    assert refused.value.code == "UNKNOWN_TIER"
    assert {"amount_cents": 2000, "points": 1000} in refused.value.details["tiers"]
    assert available(m) == 5250


@pytest.mark.rule("C1", "L10")
def test_too_few_points_is_refused_and_leaves_nothing(member):
    m = member("m-1")
    with pytest.raises(Unprocessable) as refused:
        flows.convert_points(m, 2000, "k-1")
    assert refused.value.code == "INSUFFICIENT_POINTS"
    assert available(m) == 250
    assert store.all_member_codes(m) == []
    assert CouponRequestModel.count() == 0


@pytest.mark.rule("C1", "L10")
def test_points_and_coupon_commit_together_or_not_at_all(member, monkeypatch):
    m = member("m-1", euros=2000)
    taken = flows.convert_points(m, 2000, "k-1").coupon.code
    # every new code collides with an existing coupon: the coupon put fails its condition
    monkeypatch.setattr(service, "new_code", lambda: taken)
    with pytest.raises(Conflict) as conflict:
        flows.convert_points(m, 2000, "k-2")
    assert conflict.value.code == "CONCURRENT_UPDATE"
    assert available(m) == 1250
    entries, _ = accounts.history(m, 50, None)
    assert len([e for e in entries if e.type == "spent"]) == 1


def test_a_retry_with_the_same_key_returns_the_same_coupon_once(member):
    m = member("m-1", euros=3000)
    first = flows.convert_points(m, 2000, "k-1")
    again = flows.convert_points(m, 2000, "k-1")
    assert (again.created, again.coupon) == (False, first.coupon)
    assert available(m) == 2250
    assert store.all_member_codes(m) == [first.coupon.code]


def test_the_same_key_with_another_body_is_a_conflict(member):
    m = member("m-1", euros=3000)
    flows.convert_points(m, 2000, "k-1")
    with pytest.raises(Conflict) as conflict:
        flows.convert_points(m, 4000, "k-1")
    assert conflict.value.code == "IDEMPOTENCY_KEY_REUSED"
    assert available(m) == 2250


def test_keys_belong_to_one_member(member):
    a, b = member("m-1", euros=1000), member("m-2", euros=1000)
    ca = flows.convert_points(a, 2000, "same").coupon
    cb = flows.convert_points(b, 2000, "same").coupon
    assert ca.code != cb.code
    assert CouponModel.get(cb.code).member_id == b


def test_unknown_and_merged_members_cannot_convert(member):
    with pytest.raises(NotFound):
        flows.convert_points("nobody", 2000, "k")
    source, target = member("m-old", euros=1000), member("m-new")
    flows.merge(target, source)
    with pytest.raises(Gone) as gone:
        flows.convert_points(source, 2000, "k")
    assert gone.value.code == "ACCOUNT_MERGED"
    with pytest.raises(Gone):
        flows.list_coupons(source, 10, None)
