"""Foundation pieces that need no AWS: clock, settings, auth modes, ids, cursors."""

from __future__ import annotations

import time
from datetime import date
from types import SimpleNamespace

import jwt
import pytest
from chalice.app import Request
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib import auth, clock
from chalicelib.config import settings
from chalicelib.errors import BadRequest, Forbidden, Unauthorized
from chalicelib.http import decode_cursor, encode_cursor
from chalicelib.ids import READABLE, random_code


def _request(headers: dict[str, str]) -> Request:
    event = {
        "multiValueQueryStringParameters": None,
        "headers": {k.lower(): v for k, v in headers.items()},
        "pathParameters": None,
        "requestContext": {"httpMethod": "GET", "resourcePath": "/x"},
        "body": None,
        "isBase64Encoded": False,
        "stageVariables": None,
    }
    return Request(event)


@pytest.mark.rule("G1")
@pytest.mark.parametrize(
    ("utc_time", "local_day"),
    [
        ("2017-08-27T21:59:00Z", date(2017, 8, 27)),  # 23:59 in Amsterdam (summer, UTC+2)
        ("2017-08-27T22:01:00Z", date(2017, 8, 28)),  # 00:01 the next local day
        ("2017-12-31T23:30:00Z", date(2018, 1, 1)),  # winter, UTC+1
    ],
)
def test_scheduled_event_today_is_the_amsterdam_date(utc_time, local_day):
    assert clock.event_date({"time": utc_time}) == local_day
    assert clock.event_date(SimpleNamespace(time=utc_time)) == local_day


@pytest.mark.rule("G1")
def test_today_follows_the_clock_at_call_time(travel):
    travel("2017-08-07T00:30")
    assert clock.today() == date(2017, 8, 7)
    travel("2020-02-29T23:59")
    assert clock.today() == date(2020, 2, 29)


@pytest.mark.rule("G5")
def test_rule_values_come_from_the_environment(monkeypatch):
    assert settings().welcome_points == 250
    assert [(t.amount_cents, t.points) for t in settings().coupon_tiers] == [(2000, 1000), (4000, 2000)]
    monkeypatch.setenv("WELCOME_POINTS", "500")
    monkeypatch.setenv("RETURN_PERIOD_DAYS", "14")
    monkeypatch.setenv("COUPON_TIERS", '[{"amount_cents": 1000, "points": 500}]')
    assert settings().welcome_points == 500
    assert settings().return_period_days == 14
    assert settings().coupon_tiers[0].points == 500


def test_dev_token_roundtrip_and_default_group():
    member = auth.authenticate(_request({"Authorization": f"Bearer {auth.mint_dev_token('m-1')}"}))
    assert member.subject == "m-1"
    assert member.groups == {"member"}
    pos = auth.require(_request({"Authorization": f"Bearer {auth.mint_dev_token('p', ['pos'])}"}), "pos")
    assert pos.groups == {"pos"}


def test_expired_and_missing_tokens_are_unauthorized():
    expired = auth.mint_dev_token("m-1", ttl_seconds=-10)
    with pytest.raises(Unauthorized):
        auth.authenticate(_request({"Authorization": f"Bearer {expired}"}))
    with pytest.raises(Unauthorized):
        auth.authenticate(_request({}))
    with pytest.raises(Unauthorized):
        auth.authenticate(_request({"Authorization": "Basic abc"}))


def test_member_token_on_pos_route_is_forbidden():
    with pytest.raises(Forbidden):
        auth.require(_request({"Authorization": f"Bearer {auth.mint_dev_token('m-1')}"}), "pos")


def test_cognito_mode_verifies_rs256_against_the_jwks(monkeypatch):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    monkeypatch.setenv("AUTH_MODE", "cognito")
    monkeypatch.setenv("COGNITO_USER_POOL_ID", "eu-west-1_pool")
    monkeypatch.setenv("COGNITO_APP_CLIENT_ID", "client-1")
    issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool"
    seen_urls: list[str] = []

    class FakeJwks:
        def get_signing_key_from_jwt(self, token: str) -> SimpleNamespace:
            return SimpleNamespace(key=key.public_key())

    def fake_client(url: str) -> FakeJwks:
        seen_urls.append(url)
        return FakeJwks()

    monkeypatch.setattr(auth, "_jwks_client", fake_client)
    claims = {"sub": "bo-1", "cognito:groups": ["backoffice"], "iss": issuer, "client_id": "client-1"}
    good = jwt.encode({**claims, "exp": int(time.time()) + 60}, key, algorithm="RS256")
    principal = auth.require(_request({"Authorization": f"Bearer {good}"}), "backoffice")
    assert principal.subject == "bo-1"
    assert seen_urls == [f"{issuer}/.well-known/jwks.json"]

    other_client = jwt.encode({**claims, "client_id": "x", "exp": int(time.time()) + 60}, key, algorithm="RS256")
    with pytest.raises(Unauthorized):
        auth.authenticate(_request({"Authorization": f"Bearer {other_client}"}))
    hs256 = auth.mint_dev_token("bo-1", ["backoffice"])
    with pytest.raises(Unauthorized):
        auth.authenticate(_request({"Authorization": f"Bearer {hs256}"}))


def test_random_codes_use_only_unambiguous_characters():
    code = random_code(200)
    assert set(code) <= set(READABLE)
    assert not set("01OIL") & set(READABLE)


def test_cursor_roundtrip_and_garbage():
    key = {"pk": {"S": "m#1"}, "sk": {"S": "h#2"}}
    assert decode_cursor(encode_cursor(key)) == key
    assert encode_cursor(None) is None
    with pytest.raises(BadRequest):
        decode_cursor("!!not-a-cursor")


@pytest.mark.rule("G4")
@pytest.mark.parametrize("price", ["100", 1.5, True, -1, 10**12])
def test_line_prices_are_integer_cents_as_json_numbers(price):
    from chalicelib.http import validate
    from chalicelib.sales import LineIn

    line = {
        "line_id": "1",
        "sku": "S",
        "description": "d",
        "brand": "b",
        "category": "c",
        "kind": "product",
        "seller": "retailer",
        "unit_price_cents": price,
        "quantity": 1,
    }
    with pytest.raises(BadRequest):
        validate(line, LineIn)
    assert validate({**line, "unit_price_cents": 59900}, LineIn).unit_price_cents == 59900


def test_limit_must_be_ascii_digits():
    from chalicelib.http import limit_param

    def request(limit: str) -> Request:
        req = _request({})
        req.query_params = {"limit": limit}
        return req

    assert limit_param(request("20")) == 20
    for bad in ("²", "0", "-1", "abc", "999"):
        with pytest.raises(BadRequest):
            limit_param(request(bad))
