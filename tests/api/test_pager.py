"""One pager for every list (chalicelib.pager): signed cursors, null on the last page."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from chalicelib import pager

BO = ("bo-1", "backoffice")
MEMBER = ("m-1",)

# Every paged list of the API: (path, token, the list's scope as the route signs it).
LISTS = [
    ("/members/me/history", MEMBER, "history:m-1"),
    ("/members/me/receipts", MEMBER, "receipts:m-1"),
    ("/members/me/coupons", MEMBER, "coupons:m-1"),
    ("/backoffice/claims", BO, "claims::"),
    ("/backoffice/claims?status=approved", BO, "claims:approved:"),
    ("/backoffice/claims?q=jan%40example.nl", BO, f"claims::{hashlib.sha256(b'jan@example.nl').hexdigest()[:32]}"),
    ("/backoffice/payouts", BO, "payouts"),
    ("/backoffice/campaigns", BO, "campaigns"),
    ("/backoffice/jobs/nightly_loyalty/runs", BO, "runs:nightly_loyalty"),
    ("/backoffice/reconciliation?date=2017-08-10", BO, "reconciliation:2017-08-10"),
]
KEY = {"scope": {"S": "x"}, "id": {"S": "y"}}


def _unsigned(key: dict) -> str:
    """A cursor as the API used to hand them out: the bare key, base64url."""
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def _tampered(scope: str) -> dict[str, str]:
    genuine = pager.encode(KEY, scope)
    payload, signature = genuine.split(".")
    other = pager._b64(json.dumps({"list": scope, "key": {"scope": {"S": "z"}}}).encode())
    return {
        "changed key": f"{other}.{signature}",
        "truncated": genuine[:-4],
        "no signature": payload,
        "unsigned key": _unsigned(KEY),
        "another list's": pager.encode(KEY, "some-other-list"),
        "garbage": "%%%",
    }


@pytest.mark.parametrize(("path", "who", "scope"), LISTS, ids=[p for p, _, _ in LISTS])
def test_a_tampered_truncated_or_foreign_cursor_is_400_on_every_list(api, auth, path, who, scope):
    headers = auth(*who)
    if who == MEMBER:
        body = {"email": "m-1@example.com", "first_name": "Ann", "last_name": "Smit"}
        assert api("POST", "/members", headers, {**body, "newsletter": False, "partner_data_sharing": False})[0] == 201
    status, answer = api("GET", path, headers)
    assert status == 200 and answer["next_cursor"] is None
    glue = "&" if "?" in path else "?"
    for why, cursor in _tampered(scope).items():
        status, answer = api("GET", f"{path}{glue}cursor={cursor}", headers)
        assert (status, answer["code"]) == (400, "INVALID_CURSOR"), why


def test_every_list_route_is_covered():
    from chalicelib.openapi import document

    paged = {
        path
        for path, ops in document()["paths"].items()
        if any(p["name"] == "cursor" for p in ops.get("get", {}).get("parameters", []))
    }
    assert paged == {p.split("?")[0].replace("nightly_loyalty", "{job}") for p, _, _ in LISTS}


def _put_campaigns(api, auth, count: int) -> list[str]:
    ids = [f"camp-{n:02d}" for n in range(count)]
    for campaign_id in ids:
        assert api("PUT", f"/backoffice/campaigns/{campaign_id}", auth(*BO), {})[0] == 201
    return ids


def _walk(api, auth, path: str, limit: int) -> list[dict]:
    pages, cursor = [], None
    while True:
        query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        status, answer = api("GET", path + query, auth(*BO))
        assert status == 200
        pages.append(answer["items"])
        cursor = answer["next_cursor"]
        if cursor is None:
            return pages


def test_a_full_last_page_has_a_null_cursor(api, auth):
    """Trade-in lists used to hand out DynamoDB's key, so a full last page had a cursor to nothing."""
    _put_campaigns(api, auth, 4)
    assert [len(p) for p in _walk(api, auth, "/backoffice/campaigns", 2)] == [2, 2]
    assert [len(p) for p in _walk(api, auth, "/backoffice/campaigns", 4)] == [4]


@pytest.mark.parametrize("limit", [1, 3, 5])
def test_paging_through_a_list_returns_every_item_once(api, auth, limit):
    ids = _put_campaigns(api, auth, 5)
    seen = [item["campaign_id"] for page in _walk(api, auth, "/backoffice/campaigns", limit) for item in page]
    assert seen == ids


def test_paging_through_a_members_history_returns_every_entry_once(api, auth):
    headers = auth(*MEMBER)
    body = {"email": "m-1@example.com", "first_name": "Ann", "last_name": "Smit"}
    assert api("POST", "/members", headers, {**body, "newsletter": True, "partner_data_sharing": True})[0] == 201
    for n in range(4):
        adjustment = {"adjustment_id": f"a-{n}", "points": 10 + n, "reason": "goodwill"}
        assert api("POST", "/backoffice/members/m-1/adjustments", auth(*BO), adjustment)[0] == 201
    status, everything = api("GET", "/members/me/history?limit=200", headers)
    assert status == 200 and everything["next_cursor"] is None
    total = len(everything["items"])
    assert total >= 5
    seen, cursor = [], None
    while True:
        status, page = api("GET", "/members/me/history?limit=2" + (f"&cursor={cursor}" if cursor else ""), headers)
        assert status == 200 and len(page["items"]) <= 2
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == everything["items"]
    # Another member cannot continue this member's history.
    first = api("GET", "/members/me/history?limit=1", headers)[1]["next_cursor"]
    other = auth("m-2")
    api(
        "POST",
        "/members",
        other,
        {**body, "email": "m-2@example.com", "newsletter": False, "partner_data_sharing": False},
    )
    status, answer = api("GET", f"/members/me/history?cursor={first}", other)
    assert (status, answer["code"]) == (400, "INVALID_CURSOR")
