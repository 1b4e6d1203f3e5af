"""The coupon routes through chalice.test.Client: statuses, bodies, roles, error codes."""

from __future__ import annotations

import pytest

from chalicelib.coupons import rules

from .conftest import POS, line

BASKET = [line("1", 50_000), line("2", 4_900, kind="insurance")]


def convert(api, auth, member_id: str, amount: int, key: str | None = "k-1"):
    headers = auth(member_id) | ({"Idempotency-Key": key} if key is not None else {})
    return api("POST", "/members/me/coupons", headers, {"amount_cents": amount})


@pytest.mark.rule("C1", "C2", "C9")
def test_conversion_answers_201_with_the_coupon_and_200_on_replay(api, auth, member):
    m = member("m-1", euros=1000)
    status, coupon = convert(api, auth, m, 2000)
    assert status == 201
    assert set(coupon) == {"code", "amount_cents", "issued_on", "expires_on", "status"}
    assert (coupon["amount_cents"], coupon["issued_on"], coupon["expires_on"], coupon["status"]) == (
        2000,
        "2017-08-10",
        "2018-08-09",
        "active",
    )
    assert rules.code_is_well_formed(coupon["code"])
    assert convert(api, auth, m, 2000) == (200, coupon)
    status, error = convert(api, auth, m, 4000)
    assert (status, error["code"]) == (409, "IDEMPOTENCY_KEY_REUSED")
    status, me = api("GET", "/members/me", auth(m))
    assert me["points"]["available"] == 250


def test_conversion_needs_an_idempotency_key(api, auth, member):
    m = member("m-1", euros=1000)
    status, error = convert(api, auth, m, 2000, key=None)
    assert (status, error["code"]) == (400, "IDEMPOTENCY_KEY_REQUIRED")
    status, error = convert(api, auth, m, 2000, key="x" * 129)
    assert (status, error["code"]) == (400, "INVALID_IDEMPOTENCY_KEY")


@pytest.mark.rule("C1")
def test_conversion_refusals(api, auth, member):
    m = member("m-1")
    status, error = convert(api, auth, m, 2500)
    assert (status, error["code"]) == (422, "UNKNOWN_TIER")
    status, error = convert(api, auth, m, 2000)
    assert (status, error["code"]) == (422, "INSUFFICIENT_POINTS")
    status, error = api("POST", "/members/me/coupons", auth(m) | {"Idempotency-Key": "k"}, {"amount_cents": "lots"})
    assert (status, error["code"]) == (400, "INVALID_REQUEST")
    status, error = convert(api, auth, "stranger", 2000)
    assert (status, error["code"]) == (404, "MEMBER_NOT_FOUND")


def test_roles(api, auth, member):
    m = member("m-1", euros=1000)
    assert convert(api, auth, "pos-1", 2000)[0] == 404
    status, _ = api("POST", "/members/me/coupons", auth(*POS) | {"Idempotency-Key": "k"}, {"amount_cents": 2000})
    assert status == 403
    body = {"member_id": m, "channel": "store", "lines": BASKET, "codes": []}
    assert api("POST", "/coupons/validate", auth(m), body)[0] == 403
    assert api("POST", "/coupons/redeem", auth(m), {**body, "receipt_id": "R"})[0] == 403
    assert api("POST", "/coupons/validate", {}, body)[0] == 401
    assert api("GET", "/members/me/coupons", auth("bo-1", "backoffice"))[0] == 403


@pytest.mark.rule("C3", "C2")
def test_the_list_shows_a_member_only_their_own_coupons(api, auth, member, travel):
    a, b = member("m-1", euros=1000), member("m-2", euros=1000)
    _, mine = convert(api, auth, a, 2000)
    _, theirs = convert(api, auth, b, 2000)
    status, page = api("GET", "/members/me/coupons", auth(a))
    assert status == 200
    assert page == {"items": [mine], "next_cursor": None}
    assert api("GET", "/members/me/coupons", auth(b))[1]["items"] == [theirs]
    travel("2018-08-10T08:00")
    assert api("GET", "/members/me/coupons", auth(a))[1]["items"][0]["status"] == "expired"
    status, error = api("GET", "/members/me/coupons?cursor=%%%", auth(a))
    assert (status, error["code"]) == (400, "INVALID_CURSOR")


@pytest.mark.rule("C3", "C4", "C5", "C6")
def test_validate_answers_every_code_with_its_reason(api, auth, member):
    m, other = member("m-1", euros=3000), member("m-2", euros=1000)
    _, twenty = convert(api, auth, m, 2000, "a")
    _, twenty_too = convert(api, auth, m, 2000, "b")
    _, foreign = convert(api, auth, other, 2000, "a")
    unknown = rules.make_code("23456789ABCDE")
    codes = [twenty["code"], twenty_too["code"], foreign["code"], unknown, "not-a-code"]
    body = {"member_id": m, "channel": "store", "lines": BASKET, "codes": codes}
    status, answer = api("POST", "/coupons/validate", auth(*POS), body)
    assert status == 200
    assert answer == {
        "accepted": [{"code": twenty["code"], "amount_cents": 2000}],
        "rejected": [
            {"code": twenty_too["code"], "reason": "DUPLICATE_AMOUNT"},
            {"code": foreign["code"], "reason": "NOT_YOUR_COUPON"},
            {"code": unknown, "reason": "NOT_FOUND"},
            {"code": "NOTACODE", "reason": "NOT_FOUND"},
        ],
        "discount_cents": 2000,
    }
    outlet = api("POST", "/coupons/validate", auth(*POS), {**body, "channel": "outlet", "codes": [twenty["code"]]})
    assert outlet[1]["rejected"] == [{"code": twenty["code"], "reason": "CHANNEL_EXCLUDED"}]
    services = {**body, "lines": [line("9", 9_000, kind="service")], "codes": [twenty["code"]]}
    assert api("POST", "/coupons/validate", auth(*POS), services)[1]["rejected"][0]["reason"] == "ONLY_SERVICES"
    small = {**body, "lines": [line("9", 2_000)], "codes": [twenty["code"]]}
    assert api("POST", "/coupons/validate", auth(*POS), small)[1]["rejected"][0]["reason"] == "BASKET_TOO_SMALL"
    status, error = api("POST", "/coupons/validate", auth(*POS), {**body, "channel": "moon"})
    assert (status, error["code"]) == (400, "INVALID_REQUEST")


@pytest.mark.rule("C7")
def test_redeem_is_all_or_nothing_and_replays(api, auth, member):
    m = member("m-1", euros=1000)
    _, twenty = convert(api, auth, m, 2000)
    body = {"receipt_id": "R-1", "member_id": m, "channel": "store", "lines": BASKET, "codes": [twenty["code"]]}
    status, done = api("POST", "/coupons/redeem", auth(*POS), body)
    assert (status, done) == (200, {"receipt_id": "R-1", "redeemed": [twenty["code"]], "discount_cents": 2000})
    assert api("POST", "/coupons/redeem", auth(*POS), body) == (200, done)
    status, error = api("POST", "/coupons/redeem", auth(*POS), {**body, "channel": "webshop"})
    assert (status, error["code"]) == (409, "REDEMPTION_CONFLICT")
    status, error = api("POST", "/coupons/redeem", auth(*POS), {**body, "receipt_id": "R-2"})
    assert (status, error["code"]) == (409, "COUPON_NOT_REDEEMABLE")
    assert error["details"] == {"accepted": [], "rejected": [{"code": twenty["code"], "reason": "USED"}]}
    assert api("GET", "/members/me/coupons", auth(m))[1]["items"][0]["status"] == "used"
    status, error = api("POST", "/coupons/redeem", auth(*POS), {**body, "codes": []})
    assert (status, error["code"]) == (400, "INVALID_REQUEST")


@pytest.mark.rule("L13")
def test_after_a_merge_the_old_account_gets_410(api, auth, member):
    old, new = member("m-old", euros=1000), member("m-new")
    _, coupon = convert(api, auth, old, 2000)
    status, _ = api("POST", f"/backoffice/members/{new}/merge", auth("bo-1", "backoffice"), {"source_member_id": old})
    assert status == 200
    status, error = api("GET", "/members/me/coupons", auth(old))
    assert (status, error["code"]) == (410, "ACCOUNT_MERGED")
    assert convert(api, auth, old, 2000, "k-2")[0] == 410
    assert api("GET", "/members/me/coupons", auth(new))[1]["items"] == [coupon]


def test_conversion_refuses_a_non_integer_amount_as_400(api, auth, member):
    member("m-1", euros=1000)
    headers = {**auth("m-1"), "Idempotency-Key": "k-1"}
    for amount in ("2000", 2000.5, True):
        status, body = api("POST", "/members/me/coupons", headers, {"amount_cents": amount})
        assert (status, body["code"]) == (400, "INVALID_REQUEST"), amount
    assert api("GET", "/members/me", auth("m-1"))[1]["points"]["available"] == 1250
