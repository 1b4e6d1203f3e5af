"""Hand-made nasty inputs over every POST/PUT/PATCH route of `app.routes`, each with the token of
the role the route needs: a 2 MB body, 50-deep nesting, NUL and control characters in every
string field of a valid body, far dates, wrong content types, odd keys and numbers JSON cannot
hold. The answer is never a 5xx, and every refusal carries the contract's `{code, message}`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app import app
from tests.integration.tradein.helpers import registration

SENTINEL = "\ue000NUMBER\ue000"
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T.*)?$")
ADDRESS = {"street": "Damrak", "house_number": 1, "postcode": "1012JS", "city": "Amsterdam", "country": "NL"}


def _line() -> dict[str, Any]:
    return {
        "line_id": "1", "sku": "SKU-1", "description": "item", "brand": "Acme", "category": "tv",
        "kind": "product", "seller": "retailer", "unit_price_cents": 50_000, "quantity": 1,
    }  # fmt: skip


BODIES: dict[str, Any] = {
    "PUT /backoffice/campaigns/{campaign_id}": {"starts_at": "2017-01-01T00:00:00+01:00",
                                                "ends_at": "2017-12-31T23:59:59+01:00"},
    "POST /backoffice/claims/{claim_number}/device-received": {"received_on": "2017-09-01"},
    "POST /backoffice/claims/{claim_number}/disqualify": {"reason": "fraud"},
    "POST /backoffice/claims/{claim_number}/inspection": {"outcome": "revised", "reward_cents": 5000,
                                                          "reason": "scratches"},
    "POST /backoffice/jobs/{job}/runs": {"as_of": "2017-09-09"},
    "POST /backoffice/members/{member_id}/adjustments": {"adjustment_id": "a-1", "points": 100, "reason": "care"},
    "POST /backoffice/members/{member_id}/merge": {"source_member_id": "m-2"},
    "POST /backoffice/payouts/{batch_id}/failed": {"reason": "bounced"},
    "POST /coupons/redeem": {"receipt_id": "r-9", "member_id": "m-fuzz", "channel": "store", "lines": [_line()],
                             "codes": ["ABCD-1234"]},
    "POST /coupons/validate": {"member_id": "m-fuzz", "channel": "store", "lines": [_line()], "codes": ["ABCD-1234"]},
    "POST /members": {"email": "x@example.com", "first_name": "Ann", "last_name": "Smit", "address": ADDRESS,
                      "newsletter": False, "partner_data_sharing": False},
    "PATCH /members/me": {"first_name": "Bo", "last_name": "Smit", "address": ADDRESS, "newsletter": True},
    "POST /members/me/coupons": {"amount_cents": 2000},
    "POST /members/me/receipts": {"receipt_id": "r-1"},
    "PUT /receipts/{receipt_id}": {"channel": "store", "store_id": "S-1", "purchased_at": "2017-08-10T14:00:00+02:00",
                                   "member_id": "m-fuzz", "coupon_discount_cents": 0, "lines": [_line()]},
    "POST /receipts/{receipt_id}/returns": {"return_id": "ret-1", "returned_at": "2017-08-11T10:00:00+02:00",
                                            "lines": [{"line_id": "1", "quantity": 1}]},
    "POST /tradein/claims": registration("r-1"),
    "PATCH /tradein/claims/{claim_number}": {"postcode": "1012JS", "participant": {"phone": "0612345678"}},
    "POST /tradein/claims/{claim_number}/return-request": {"postcode": "1012JS"},
    "POST /tradein/claims/{claim_number}/upload": {"postcode": "1012JS"},
}  # fmt: skip


def writes() -> list[str]:
    return sorted(f"{m} {p}" for p, r in app.routes.items() for m in r if m in ("POST", "PUT", "PATCH"))


def role_headers(path: str, auth: Callable[..., dict[str, str]]) -> dict[str, str]:
    if path.startswith("/members"):
        return {**auth("m-fuzz"), "Idempotency-Key": "fuzz-1"}
    if path.startswith(("/receipts", "/coupons")):
        return auth("pos-1", "pos")
    if path.startswith("/backoffice"):
        return auth("bo-1", "backoffice")
    return {"Content-Type": "application/json"}


def leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from leaves(item, (*path, i))
    else:
        yield path, value


def replaced(body: Any, path: tuple[Any, ...], new: Any) -> Any:
    copy = json.loads(json.dumps(body))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return copy


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"a": value}
    return value


def cases(body: Any) -> Iterator[tuple[str, bytes, str]]:
    """(label, raw body, content type) for one route's valid body."""
    plain = json.dumps(body).encode()
    js = "application/json"
    yield "2 MB string field", json.dumps({**body, "pad": "x" * 2_000_000}).encode(), js
    yield "2 MB garbage", b"\xff{" * 1_000_000, js
    yield "50-deep object", json.dumps({**body, "deep": nested(50)}).encode(), js
    yield "50-deep array", ("[" * 50 + "]" * 50).encode(), js
    yield "not an object", b'["a", 1]', js
    yield "null", b"null", js
    yield "broken json", plain[:-1], js
    yield "bad utf-8", plain.replace(b'"', b'"\xc3\x28', 1), js
    for content_type in ("text/plain", "multipart/form-data; boundary=xyz", "application/x-www-form-urlencoded"):
        yield f"content type {content_type}", plain, content_type
    yield (
        "multipart body",
        b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--xyz--\r\n',
        ("multipart/form-data; boundary=xyz"),
    )
    yield "__proto__", json.dumps({**body, "__proto__": {"admin": True}, "constructor": {}}).encode(), js
    yield "empty key", json.dumps({**body, "": 1}).encode(), js
    yield "10k keys", json.dumps({**body, **{f"k{i}": i for i in range(10_000)}}).encode(), js
    for path, value in leaves(body):
        where = "/".join(map(str, path))
        if isinstance(value, str):
            for label, bad in (("NUL", value + "\x00"), ("controls", "\x01\x08\x1b\x7f\u2028" + value)):
                yield f"{label} in {where}", json.dumps(replaced(body, path, bad)).encode(), js
            if DATE.match(value):
                far = ("0001-01-01", "9999-12-31", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00")
                for date in far:
                    yield f"{date} in {where}", json.dumps(replaced(body, path, date)).encode(), js
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            for number in ("1e309", "-1e309", "-0", "-0.0", str(2**64), str(-(2**64)), "1.5", "NaN", "Infinity"):
                raw = json.dumps(replaced(body, path, SENTINEL)).replace(json.dumps(SENTINEL), number)
                yield f"{number} in {where}", raw.encode(), js


@pytest.mark.parametrize("route", writes())
def test_nasty_inputs(route: str, client: Any, auth: Callable[..., dict[str, str]], figure: Any) -> None:
    method, template = route.split(" ", 1)
    assert route in BODIES, f"no valid body for {route}: add one"
    path = re.sub(r"\{(\w+)\}", lambda m: {"job": "nightly_loyalty"}.get(m.group(1), f"x-{m.group(1)}"), template)
    base = role_headers(template, auth)
    body = json.dumps({"email": "m-fuzz@example.com", "first_name": "A", "last_name": "B", "newsletter": False,
                       "partner_data_sharing": False}).encode()  # fmt: skip
    assert client.http.request("POST", "/members", headers=auth("m-fuzz"), body=body).status_code == 201
    failures: list[str] = []
    count = 0
    for label, raw, content_type in cases(BODIES[route]):
        count += 1
        response = client.http.request(method, path, headers={**base, "Content-Type": content_type}, body=raw)
        try:
            answer = json.loads(response.body) if response.body else None
        except ValueError:
            answer = response.body[:80]
        if response.status_code >= 500:
            failures.append(f"{label}: {response.status_code} {answer!r:.200}")
        elif response.status_code >= 400 and not (
            isinstance(answer, dict) and isinstance(answer.get("code"), str) and isinstance(answer.get("message"), str)
        ):
            failures.append(f"{label}: {response.status_code} without the contract body: {answer!r:.200}")
    figure("fuzz", **{route: count})
    assert not failures, "\n".join(failures)
