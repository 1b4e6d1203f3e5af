"""Requests per hot-path operation (issue 12, part 4), counted with a botocore `before-call` hook on
every client (boto3 and PynamoDB alike). Counts, not timings: they hold on any machine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from scripts.request_count import count_requests
from tests.factories import old_lots

POS = ("pos-1", "pos")
LAPTOP = {
    "line_id": "1",
    "sku": "LAP-1",
    "description": "Laptop",
    "brand": "Acme",
    "category": "laptop",
    "kind": "product",
    "seller": "retailer",
    "unit_price_cents": 250_000,
    "quantity": 1,
}


def receipt(member_id: str, purchased_at: str = "2017-08-10T14:03:00+02:00") -> dict[str, Any]:
    return {"channel": "store", "purchased_at": purchased_at, "member_id": member_id, "lines": [LAPTOP]}


@pytest.fixture
def shopper(
    api: Callable[..., Any],
    auth: Callable[..., dict[str, str]],
    travel: Callable[..., Any],
    run_job: Callable[..., Any],
) -> Any:
    """A member who joined on 2016-10-01 (250 welcome points, expiring 2017-09-30) with a purchase of
    EUR 2,500 on 2017-07-01 matured by the nightly run: 2,750 points available on 2017-08-10."""
    travel("2016-10-01T12:00")
    headers = auth("m-1")
    body = {"email": "m-1@example.com", "first_name": "Ann", "last_name": "Smit"}
    status, _ = api("POST", "/members", headers, {**body, "newsletter": False, "partner_data_sharing": False})
    assert status == 201
    travel("2017-08-10T12:00")
    status, _ = api("PUT", "/receipts/earn-1", auth(*POS), receipt("m-1", "2017-07-01T12:00:00+02:00"))
    assert status == 201
    assert run_job("nightly_loyalty")["status"] == "done"
    return auth("m-1")  # a token of today: the one of the sign-up day has expired


@pytest.mark.rule("L12")
def test_profile_is_one_get_item_whatever_the_history(api: Callable[..., Any], shopper: dict[str, str]) -> None:
    old_lots("m-1", 200)
    with count_requests() as seen:
        status, body = api("GET", "/members/me", shopper)
    assert status == 200
    assert body["points"]["available"] == 2750
    assert body["points"]["expiring"] == [{"points": 250, "expires_on": "2017-09-30"}]
    assert seen.of("dynamodb") == {"GetItem": 1}


@pytest.mark.rule("L1")
def test_new_receipt_is_a_member_read_and_one_transaction(
    api: Callable[..., Any], auth: Callable[..., dict[str, str]], shopper: dict[str, str]
) -> None:
    with count_requests() as seen:
        status, body = api("PUT", "/receipts/R-1", auth(*POS), receipt("m-1"))
    assert (status, body["points"]) == (201, 2500)
    assert seen.of("dynamodb") == {"BatchGetItem": 1, "TransactWriteItems": 1}  # member + receipt, then the write


@pytest.mark.rule("L1")
def test_replayed_receipt_is_one_read(
    api: Callable[..., Any], auth: Callable[..., dict[str, str]], shopper: dict[str, str]
) -> None:
    assert api("PUT", "/receipts/R-1", auth(*POS), receipt("m-1"))[0] == 201
    with count_requests() as seen:
        status, body = api("PUT", "/receipts/R-1", auth(*POS), receipt("m-1"))
    assert (status, body["points"]) == (200, 2500)
    assert seen.total() == 1


@pytest.mark.rule("C1")
def test_conversion_is_at_most_three_requests(
    api: Callable[..., Any], auth: Callable[..., dict[str, str]], shopper: dict[str, str]
) -> None:
    headers = {**shopper, "Idempotency-Key": "k-1"}
    with count_requests() as seen:
        status, coupon = api("POST", "/members/me/coupons", headers, {"amount_cents": 2000})
    assert status == 201
    assert seen.total() <= 3, seen
    assert seen.of("dynamodb").get("TransactWriteItems") == 1
    # the points went with the coupon, and a replay answers the same coupon
    assert api("GET", "/members/me", shopper)[1]["points"]["available"] == 1750
    assert api("POST", "/members/me/coupons", headers, {"amount_cents": 2000})[1]["code"] == coupon["code"]


def _coupon(api: Callable[..., Any], shopper: dict[str, str]) -> str:
    status, coupon = api("POST", "/members/me/coupons", {**shopper, "Idempotency-Key": "k-1"}, {"amount_cents": 2000})
    assert status == 201
    return str(coupon["code"])


def _basket(code: str, **kw: Any) -> dict[str, Any]:
    return {"member_id": "m-1", "channel": "store", "lines": [LAPTOP], "codes": [code], **kw}


@pytest.mark.rule("C3")
def test_validate_is_one_batch_get(
    api: Callable[..., Any], auth: Callable[..., dict[str, str]], shopper: dict[str, str]
) -> None:
    code = _coupon(api, shopper)
    with count_requests() as seen:
        status, body = api("POST", "/coupons/validate", auth(*POS), _basket(code))
    assert (status, body["discount_cents"]) == (200, 2000)
    assert seen.of("dynamodb") == {"BatchGetItem": 1}


@pytest.mark.rule("C7")
def test_redeem_is_at_most_two_requests_and_its_replay_one(
    api: Callable[..., Any], auth: Callable[..., dict[str, str]], shopper: dict[str, str]
) -> None:
    code = _coupon(api, shopper)
    with count_requests() as first:
        status, body = api("POST", "/coupons/redeem", auth(*POS), _basket(code, receipt_id="R-9"))
    assert (status, body["redeemed"]) == (200, [code])
    assert first.total() <= 2, first
    with count_requests() as replay:
        again = api("POST", "/coupons/redeem", auth(*POS), _basket(code, receipt_id="R-9"))
    assert again == (200, body)
    assert replay.total() <= 2, replay


RETURN = {"returned_at": "2017-08-10T13:00:00+02:00", "lines": [{"line_id": "1", "quantity": 1}]}


@pytest.mark.rule("L11", "C8", "T12")
def test_a_return_in_the_pending_period_is_at_most_four_requests(
    api: Callable[..., Any], auth: Callable[..., dict[str, str]], shopper: dict[str, str]
) -> None:
    assert api("PUT", "/receipts/R-1", auth(*POS), receipt("m-1"))[0] == 201
    with count_requests() as seen:
        status, body = api("POST", "/receipts/R-1/returns", auth(*POS), {"return_id": "ret-1", **RETURN})
    assert (status, body["points_reversed"]) == (201, 2500)
    # the return, its receipt and the order's redemption; the ledger transaction; trade-in's claim
    # look-up; the effect marked done
    assert seen.total() <= 4, seen
    assert seen.of("dynamodb").get("BatchGetItem") == 1 and seen.of("dynamodb").get("TransactWriteItems") == 1
    assert api("GET", "/members/me", shopper)[1]["points"]["pending"] == 0


@pytest.mark.rule("L11")
def test_a_return_after_maturation_is_at_most_four_requests(
    api: Callable[..., Any], auth: Callable[..., dict[str, str]], shopper: dict[str, str]
) -> None:
    """The matured receipt's lot is expected untouched: no read of the member's lots."""
    with count_requests() as seen:
        status, body = api("POST", "/receipts/earn-1/returns", auth(*POS), {"return_id": "ret-2", **RETURN})
    assert (status, body["points_reversed"]) == (201, 2500)
    assert seen.total() <= 4, seen
    assert "Query" not in seen.of("dynamodb")
    assert api("GET", "/members/me", shopper)[1]["points"]["available"] == 250
