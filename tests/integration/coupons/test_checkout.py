"""Validate and redeem at checkout on moto: reasons, all-or-nothing, once per order (C3-C7, C9)."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib import flows
from chalicelib.coupons import rules, service, store
from chalicelib.coupons.models import RedemptionModel
from chalicelib.errors import BadRequest, Conflict

from .conftest import make_line

BASKET = (make_line("1", 50_000), make_line("2", 4_900, kind="insurance"))


def reasons(result: rules.Validation) -> dict[str, str]:
    return {r.code: r.reason for r in result.rejected}


def status(code: str) -> str:
    coupon = store.get_coupon(code)
    assert coupon is not None
    return coupon.status


@pytest.fixture
def wallet(member: Any) -> dict[str, Any]:
    """m-1 holds a €20 and a €40 coupon, m-2 a €20 coupon."""
    m1, m2 = member("m-1", euros=3000), member("m-2", euros=1000)
    return {
        "m1": m1,
        "m2": m2,
        "twenty": flows.convert_points(m1, 2000, "a").coupon.code,
        "forty": flows.convert_points(m1, 4000, "b").coupon.code,
        "other": flows.convert_points(m2, 2000, "a").coupon.code,
    }


@pytest.mark.rule("C3", "C4", "C5", "C6")
def test_validation_answers_every_code_and_writes_nothing(wallet):
    w = wallet
    typo = w["twenty"][:-1] + ("A" if w["twenty"][-1] != "A" else "B")
    codes = [w["twenty"].lower(), w["forty"], w["other"], typo]
    result = service.validate(w["m1"], "store", BASKET, codes)
    assert [(a.code, a.amount_cents) for a in result.accepted] == [(w["twenty"], 2000), (w["forty"], 4000)]
    assert reasons(result) == {w["other"]: "NOT_YOUR_COUPON", typo: "NOT_FOUND"}
    assert result.discount_cents == 6000
    assert {status(w["twenty"]), status(w["forty"])} == {"active"}
    assert RedemptionModel.count() == 0


@pytest.mark.rule("C9")
def test_a_code_with_a_wrong_check_character_is_refused_without_a_lookup(wallet, monkeypatch):
    w = wallet
    looked_up: list[list[str]] = []
    real = store.get_coupons

    def spy(codes):
        codes = list(codes)
        looked_up.append(codes)
        return real(codes)

    monkeypatch.setattr(store, "get_coupons", spy)
    typo = w["twenty"][:5] + ("Z" if w["twenty"][5] != "Z" else "Y") + w["twenty"][6:]
    result = service.validate(w["m1"], "store", BASKET, [typo])
    assert reasons(result) == {typo: "NOT_FOUND"}
    assert looked_up == []
    service.validate(w["m1"], "store", BASKET, [typo, w["forty"]])
    assert looked_up == [[w["forty"]]]


@pytest.mark.rule("C7")
def test_redemption_is_once_per_order_and_a_retry_gets_the_same_answer(wallet):
    w = wallet
    done = service.redeem("R-1", w["m1"], "store", BASKET, [w["twenty"], w["forty"]])
    assert (done.codes, done.discount_cents) == ((w["twenty"], w["forty"]), 6000)
    assert {status(w["twenty"]), status(w["forty"])} == {"used"}
    assert store.get_coupon(w["twenty"]).redeemed_receipt_id == "R-1"  # type: ignore[union-attr]
    again = service.redeem("R-1", w["m1"], "store", BASKET, [w["twenty"], w["forty"]])
    assert again == done
    with pytest.raises(Conflict) as other_body:
        service.redeem("R-1", w["m1"], "store", BASKET, [w["twenty"]])
    assert other_body.value.code == "REDEMPTION_CONFLICT"


@pytest.mark.rule("C7", "C5")
def test_a_second_order_cannot_reuse_a_used_coupon(wallet):
    w = wallet
    service.redeem("R-1", w["m1"], "store", BASKET, [w["twenty"]])
    with pytest.raises(Conflict) as refused:
        service.redeem("R-2", w["m1"], "webshop", BASKET, [w["twenty"]])
    assert refused.value.code == "COUPON_NOT_REDEEMABLE"
    assert refused.value.details == {"accepted": [], "rejected": [{"code": w["twenty"], "reason": "USED"}]}
    assert RedemptionModel.count() == 1


@pytest.mark.rule("C7")
def test_redemption_is_all_or_nothing(wallet):
    w = wallet
    with pytest.raises(Conflict) as refused:
        service.redeem("R-1", w["m1"], "store", BASKET, [w["twenty"], w["other"]])
    assert refused.value.details["rejected"] == [{"code": w["other"], "reason": "NOT_YOUR_COUPON"}]
    assert refused.value.details["accepted"] == [{"code": w["twenty"], "amount_cents": 2000}]
    assert status(w["twenty"]) == "active"
    assert status(w["other"]) == "active"
    assert service.redeem("R-1", w["m1"], "store", BASKET, [w["twenty"]]).discount_cents == 2000


@pytest.mark.rule("C7")
def test_a_coupon_taken_between_check_and_write_fails_the_whole_transaction(wallet, monkeypatch):
    """The status condition in the transaction, not the read before it, decides (C7)."""
    w = wallet
    service.redeem("R-1", w["m1"], "store", BASKET, [w["forty"]])
    real = store.get_coupons
    stale = real([w["forty"]])[w["forty"]]
    active_again = rules.Coupon(**{**stale.__dict__, "status": "active", "redeemed_receipt_id": None})
    real_pair = store.get_coupons_and_redemption

    def stale_read(codes, receipt_id):  # the redeem path reads coupons and redemption in one batch
        found, redemption = real_pair(codes, receipt_id)
        return {**found, w["forty"]: active_again}, redemption

    monkeypatch.setattr(store, "get_coupons", lambda codes: {**real(codes), w["forty"]: active_again})
    monkeypatch.setattr(store, "get_coupons_and_redemption", stale_read)
    with pytest.raises(Conflict) as refused:
        service.redeem("R-2", w["m1"], "store", BASKET, [w["twenty"], w["forty"]])
    assert refused.value.code == "CONCURRENT_UPDATE"
    assert status(w["twenty"]) == "active"
    assert store.get_redemption("R-2") is None


@pytest.mark.rule("C3")
def test_a_coupon_can_only_be_redeemed_by_its_member(wallet):
    w = wallet
    with pytest.raises(Conflict) as refused:
        service.redeem("R-1", w["m2"], "store", BASKET, [w["twenty"]])
    assert refused.value.details["rejected"] == [{"code": w["twenty"], "reason": "NOT_YOUR_COUPON"}]
    assert status(w["twenty"]) == "active"


@pytest.mark.rule("C3", "C2")
def test_the_list_shows_only_the_members_own_coupons_with_status(wallet, travel):
    w = wallet
    service.redeem("R-1", w["m1"], "store", BASKET, [w["forty"]])
    page, next_key = flows.list_coupons(w["m1"], 50, None)
    assert [(c.code, s) for c, s in page] == [(w["twenty"], "active"), (w["forty"], "used")]
    assert next_key is None
    assert [c.code for c, _ in flows.list_coupons(w["m2"], 50, None)[0]] == [w["other"]]
    travel("2018-08-10T09:00")
    page, _ = flows.list_coupons(w["m1"], 50, None)
    assert [s for _, s in page] == ["expired", "used"]


def test_the_list_pages_with_a_cursor_of_the_same_member(wallet):
    w = wallet
    first, key = flows.list_coupons(w["m1"], 1, None)
    assert key is not None
    second, _ = flows.list_coupons(w["m1"], 1, key)
    assert [c.code for c, _ in first + second] == [w["twenty"], w["forty"]]
    forged = {**key, "member_id": {"S": w["m2"]}}
    with pytest.raises(BadRequest, match="cursor"):
        flows.list_coupons(w["m1"], 1, forged)
