"""Foundation pieces that need no AWS: clock, settings, auth modes, ids, cursors."""

from __future__ import annotations

import json
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace

import jwt
import pytest
from chalice.app import Request
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib import auth, clock, pager
from chalicelib.config import settings
from chalicelib.errors import BadRequest, Forbidden, Unauthorized
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


POOL_ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool"


@pytest.fixture
def cognito(monkeypatch):
    """Cognito mode against a JWKS served over real HTTP from this test (keys made here).

    Yields sign(claims, key=the pool's key) and the list of JWKS URLs the app asked for.
    """
    pool_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(pool_key.public_key()))
    jwks = json.dumps({"keys": [{**jwk, "kid": "pool-key-1", "alg": "RS256", "use": "sig"}]}).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(jwks)))
            self.end_headers()
            self.wfile.write(jwks)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Jwks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    asked: list[str] = []

    def client_for(url: str) -> jwt.PyJWKClient:
        asked.append(url)
        return jwt.PyJWKClient(f"http://127.0.0.1:{server.server_address[1]}/jwks.json", cache_keys=False)

    monkeypatch.setattr(auth, "_jwks_client", client_for)
    monkeypatch.setenv("AUTH_MODE", "cognito")
    monkeypatch.setenv("COGNITO_USER_POOL_ID", "eu-west-1_pool")
    monkeypatch.setenv("COGNITO_APP_CLIENT_ID", "client-1")

    def sign(claims: dict[str, object], key: rsa.RSAPrivateKey = pool_key) -> str:
        base = {"iss": POOL_ISSUER, "iat": int(time.time()), "exp": int(time.time()) + 60}
        return jwt.encode({**base, **claims}, key, algorithm="RS256", headers={"kid": "pool-key-1"})

    yield sign, asked
    server.shutdown()
    thread.join()


def _bearer(token: str) -> Request:
    return _request({"Authorization": f"Bearer {token}"})


def test_cognito_access_and_id_tokens_are_accepted_as_cognito_documents(cognito):
    sign, asked = cognito
    access = sign({"sub": "bo-1", "token_use": "access", "client_id": "client-1", "cognito:groups": ["backoffice"]})
    assert auth.require(_bearer(access), "backoffice").subject == "bo-1"
    id_token = sign({"sub": "m-7", "token_use": "id", "aud": "client-1", "email": "x@example.com"})
    member = auth.require(_bearer(id_token), "member")
    assert (member.subject, member.groups) == ("m-7", {"member"})
    id_backoffice = sign({"sub": "bo-2", "token_use": "id", "aud": "client-1", "cognito:groups": ["backoffice"]})
    assert auth.require(_bearer(id_backoffice), "backoffice").subject == "bo-2"
    assert set(asked) == {f"{POOL_ISSUER}/.well-known/jwks.json"}


@pytest.mark.parametrize(
    "claims",
    [
        {"token_use": "access", "client_id": "other-client"},
        {"token_use": "id", "aud": "other-client"},
        {"token_use": "id", "client_id": "client-1"},  # an ID token names its client in aud
        {"token_use": "access", "aud": "client-1"},  # an access token names it in client_id
        {"client_id": "client-1"},  # no token_use
        {"token_use": "refresh", "client_id": "client-1"},
        {"token_use": "access", "client_id": "client-1", "iss": "https://cognito-idp.eu-west-1.amazonaws.com/other"},
        {"token_use": "access", "client_id": "client-1", "exp": int(time.time()) - 10},
    ],
)
def test_cognito_tokens_for_another_client_use_or_issuer_are_refused(cognito, claims):
    sign, _ = cognito
    with pytest.raises(Unauthorized) as refused:
        auth.authenticate(_bearer(sign({"sub": "bo-1", "cognito:groups": ["backoffice"], **claims})))
    assert refused.value.code == "INVALID_TOKEN"


def test_cognito_refuses_other_keys_and_hs256_and_reads_groups_only_from_the_pool(cognito):
    sign, _ = cognito
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    access = {"sub": "bo-1", "token_use": "access", "client_id": "client-1"}
    with pytest.raises(Unauthorized):
        auth.authenticate(_bearer(sign({**access, "cognito:groups": ["backoffice"]}, key=stranger)))
    with pytest.raises(Unauthorized):
        auth.authenticate(_bearer(auth.mint_dev_token("bo-1", ["backoffice"])))
    # A `groups` claim is not the user pool's: it grants nothing in cognito mode.
    with pytest.raises(Forbidden):
        auth.require(_bearer(sign({**access, "groups": ["backoffice"]})), "backoffice")


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "bo", "groups": {"backoffice": False}},
        {"sub": "bo", "groups": "backoffice"},
        {"sub": "bo", "groups": 5},
        {"sub": "bo", "groups": [5]},
        {"sub": "bo", "groups": [["backoffice"]]},
        {"sub": ""},
        {"sub": 7},
        {"sub": None},
        {"groups": ["backoffice"]},
    ],
)
def test_dev_claims_of_the_wrong_shape_are_invalid_tokens(claims):
    token = jwt.encode({"exp": int(time.time()) + 60, **claims}, settings().auth_dev_secret, algorithm="HS256")
    with pytest.raises(Unauthorized) as refused:
        auth.authenticate(_bearer(token))
    assert refused.value.code == "INVALID_TOKEN"


def test_dev_tokens_without_exp_are_refused_and_unknown_groups_grant_nothing():
    secret = settings().auth_dev_secret
    forever = jwt.encode({"sub": "bo", "groups": ["backoffice"]}, secret, algorithm="HS256")
    with pytest.raises(Unauthorized):
        auth.authenticate(_bearer(forever))
    odd = jwt.encode({"sub": "p", "groups": ["admin", "pos"], "exp": int(time.time()) + 60}, secret, algorithm="HS256")
    assert auth.authenticate(_bearer(odd)).groups == {"pos"}
    unknown = jwt.encode({"sub": "m", "groups": ["admin"], "exp": int(time.time()) + 60}, secret, algorithm="HS256")
    assert auth.authenticate(_bearer(unknown)).groups == {"member"}


def test_random_codes_use_only_unambiguous_characters():
    code = random_code(200)
    assert set(code) <= set(READABLE)
    assert not set("01OIL") & set(READABLE)


def test_cursor_roundtrip_and_garbage():
    key = {"pk": {"S": "m#1"}, "sk": {"S": "h#2"}}
    cursor = pager.encode(key, "history:m-1")
    assert pager.decode(cursor, "history:m-1") == key
    assert pager.encode(None, "history:m-1") is None and pager.decode(None, "history:m-1") is None
    payload, signature = cursor.split(".")
    forged = pager._b64(b'{"key":{"pk":{"S":"m#2"}},"list":"history:m-1"}')
    for bad in ("!!not-a-cursor", cursor[:-3], payload, f"{payload}.", f"{forged}.{signature}", cursor + "x"):
        with pytest.raises(BadRequest) as refused:
            pager.decode(bad, "history:m-1")
        assert refused.value.code == "INVALID_CURSOR"
    with pytest.raises(BadRequest):  # another list's (or another member's) cursor
        pager.decode(cursor, "history:m-2")


def test_cursors_are_signed_with_the_configured_secret(monkeypatch):
    cursor = pager.encode({"pk": {"S": "x"}}, "runs:nightly_loyalty")
    monkeypatch.setenv("CURSOR_SECRET", "another-secret-another-secret-another")
    with pytest.raises(BadRequest):
        pager.decode(cursor, "runs:nightly_loyalty")


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
