"""Access control: every route of `app.routes` x every kind of caller, against the role the
contract gives the route's family (API.md); plus other members' data, tracking's 404s and the
presigned POST's policy."""

from __future__ import annotations

import base64
import json
import os
import re
import time
from datetime import datetime
from typing import Any

import jwt

from app import app
from tests.integration.tradein.helpers import receipt_body as laptop_receipt

PUBLIC = ("/tradein/", "/health", "/openapi.json")


def role_of(path: str) -> str | None:
    """The role a route needs by the contract's sections: None for the public routes."""
    if path.startswith(PUBLIC) or path in ("/health", "/openapi.json"):
        return None
    if path.startswith("/members"):
        return "member"
    if path.startswith(("/receipts", "/coupons")):
        return "pos"
    if path.startswith("/backoffice"):
        return "backoffice"
    raise AssertionError(f"route {path} belongs to no section of the contract")


def concrete(path: str) -> str:
    values = {"job": "nightly_loyalty", "run_id": "nope"}
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), f"x-{m.group(1)}"), path)


def _claims(**extra: Any) -> dict[str, Any]:
    return {"sub": "m-1", "iat": int(time.time()), "exp": int(time.time()) + 3600, **extra}


def _hs(payload: dict[str, Any], secret: str | None = None) -> str:
    return jwt.encode(payload, secret or os.environ["AUTH_DEV_SECRET"], algorithm="HS256")


def _none_alg(payload: dict[str, Any]) -> str:
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=")
    return f"{header.decode()}.{body.decode()}."


def callers() -> dict[str, str | None]:
    """name -> bearer token (None: no header). Minted when called: the tests travel in time."""
    no_exp = _claims()
    del no_exp["exp"]
    return {
        "member": _hs(_claims()),
        "other_member": _hs(_claims(sub="m-2")),
        "pos": _hs(_claims(sub="pos-1", groups=["pos"])),
        "backoffice": _hs(_claims(sub="bo-1", groups=["backoffice"])),
        "unknown_group": _hs(_claims(groups=["admin", "root"])),
        "no_token": None,
        "expired": _hs(_claims(exp=int(time.time()) - 60, groups=["backoffice"])),
        "wrong_signature": _hs(_claims(groups=["backoffice"]), secret="not-the-secret-" * 3),
        "alg_none": _none_alg(_claims(groups=["backoffice"])),
        "groups_dict": _hs(_claims(groups={"backoffice": True})),
        "groups_int": _hs(_claims(groups=7)),
        "groups_string": _hs(_claims(groups="backoffice")),
        "sub_empty": _hs(_claims(sub="", groups=["backoffice"])),
        "sub_int": _hs(_claims(sub=12, groups=["backoffice"])),
        "no_exp": _hs(no_exp | {"groups": ["backoffice"]}),
        "exp_string": _hs(_claims(exp="9999999999", groups=["backoffice"])),
        "garbage": "not.a.jwt",
    }


INVALID = {
    "expired", "wrong_signature", "alg_none", "groups_dict", "groups_int", "groups_string",
    "sub_empty", "sub_int", "no_exp", "exp_string", "garbage",
}  # fmt: skip
ROLE_OF_CALLER = {"member": "member", "other_member": "member", "unknown_group": "member", "pos": "pos"}
ROLE_OF_CALLER["backoffice"] = "backoffice"


def expected(route_role: str | None, caller: str) -> str:
    if route_role is None:
        return "allowed"
    if caller == "no_token" or caller in INVALID:
        return "401"
    return "allowed" if ROLE_OF_CALLER[caller] == route_role else "403"


def test_every_route_times_every_caller(api, travel, figure):
    travel("2017-09-12T10:00")
    routes = [(m, p) for p, r in sorted(app.routes.items()) for m in sorted(r)]
    outcomes: dict[str, int] = {}
    wrong = []
    for method, path in routes:
        role = role_of(path)
        for caller, token in callers().items():
            headers = {"Content-Type": "application/json"}
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
            status, body = api(method, concrete(path), headers, {} if method in ("POST", "PUT", "PATCH") else None)
            want = expected(role, caller)
            got = "allowed" if status not in (401, 403) and status < 500 else str(status)
            if status in (401, 403) and not (isinstance(body, dict) and {"code", "message"} <= set(body)):
                got += " without the error body"
            outcomes[want] = outcomes.get(want, 0) + 1
            if got != want:
                wrong.append((method, path, caller, want, status, body))
    figure("access matrix", routes=len(routes), callers=len(callers()), cases=len(routes) * len(callers()))
    figure("access matrix", **{f"expected_{k}": v for k, v in sorted(outcomes.items())}, mismatches=len(wrong))
    assert not wrong, wrong


def test_another_members_data_is_never_visible(api, auth, member, figure):
    member("m-1", euros=1000)
    member("m-2")
    a, b = auth("m-1"), auth("m-2")
    status, coupon = api("POST", "/members/me/coupons", {**a, "Idempotency-Key": "k-1"}, {"amount_cents": 2000})
    assert status == 201, coupon
    checks = 0
    for path in ("/members/me", "/members/me/history", "/members/me/receipts", "/members/me/coupons"):
        status, body = api("GET", path, b)
        assert status == 200, body
        assert coupon["code"] not in json.dumps(body) and "earn-m-1" not in json.dumps(body)
        checks += 1
    status, body = api("POST", "/members/me/receipts", b, {"receipt_id": "earn-m-1"})
    assert (status, body["code"]) == (409, "RECEIPT_ALREADY_REGISTERED")
    pos = auth("pos-1", "pos")
    basket = [{**laptop_receipt()["lines"][0], "unit_price_cents": 50_000}]
    status, body = api(
        "POST", "/coupons/redeem", pos,
        {"receipt_id": "R-steal", "member_id": "m-2", "channel": "store", "lines": basket, "codes": [coupon["code"]]},
    )  # fmt: skip
    assert status == 409 and body["details"]["rejected"][0]["reason"] == "NOT_YOUR_COUPON", body
    status, mine = api("GET", "/members/me/coupons", a)
    assert [c["status"] for c in mine["items"]] == ["active"]
    figure("access matrix", other_member_checks=checks + 2)


def test_tracking_a_wrong_postcode_is_an_unknown_claim(tradein, figure):
    number = tradein.claim_for("R-TRACK")
    ok_status, _ = tradein.track(number)
    assert ok_status == 200
    answers = [tradein.track(number, postcode) for postcode in ("9999ZZ", "1012JT", "1012 JS 1", "0000AA")]
    answers += [tradein.track(other, "1012JS") for other in ("TI-0000-0000", number[:-1] + "X", "x" * 40)]
    unknown = answers[-3]
    # The same status and body, byte for byte, whichever part was wrong.
    assert [a for a in answers if a != unknown] == []
    assert unknown[0] == 404
    timings = {}
    for label, target in (("wrong_postcode", (number, "9999ZZ")), ("unknown", ("TI-0000-0000", "1012JS"))):
        started = time.perf_counter()
        for _ in range(20):
            tradein.track(*target)
        timings[label] = (time.perf_counter() - started) / 20 * 1000
    figure("tracking", lookalike_404s=len(answers), ms_wrong_postcode=round(timings["wrong_postcode"], 2))
    figure("tracking", ms_unknown=round(timings["unknown"], 2))


def test_the_presigned_post_policy_says_exactly_what_is_allowed(tradein, figure):
    from chalicelib.config import settings

    tradein.receipt("R-POLICY")
    status, body = tradein.register("R-POLICY")
    assert status == 201, body
    upload = body["upload"]
    fields = upload["fields"]
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    key = fields["key"]
    assert re.fullmatch(rf"proofs/{body['claim_number']}/[^/$]+", key), key
    assert {"key": key} in conditions  # an exact key, no starts-with
    assert not any(isinstance(c, list) and c[0] == "starts-with" for c in conditions)
    assert ["content-length-range", 1, settings().proof_max_bytes] in conditions
    assert {"bucket": settings().proofs_bucket} in conditions
    assert {"Content-Type": upload["content_type"]} in conditions
    assert {"x-amz-algorithm": "AWS4-HMAC-SHA256"} in conditions
    assert {"x-amz-credential": fields["x-amz-credential"]} in conditions
    assert {"x-amz-date": fields["x-amz-date"]} in conditions
    expiry = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    signed = datetime.strptime(fields["x-amz-date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=expiry.tzinfo)
    assert 14 * 60 <= (expiry - signed).total_seconds() <= 15 * 60 + 5
    assert (
        datetime.fromisoformat(upload["expires_at"]) == expiry.replace(microsecond=0)
        or abs((datetime.fromisoformat(upload["expires_at"]) - expiry).total_seconds()) < 2
    )
    status, fresh = tradein.api(
        "POST", f"/tradein/claims/{body['claim_number']}/upload", tradein.public, {"postcode": "1012JS"}
    )
    assert status == 200, fresh
    assert fresh["upload"]["fields"]["key"] != key  # one key per upload
    figure("presigned POST", conditions_checked=len(conditions), expires_seconds=(expiry - signed).total_seconds())
