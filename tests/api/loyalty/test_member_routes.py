"""The member routes through the Chalice client: statuses, bodies, roles, errors."""

from __future__ import annotations

import pytest

from tests.api.loyalty.conftest import receipt_body


@pytest.mark.rule("L8", "L12")
def test_join_then_profile_shows_points_and_card(api, auth, joined):
    headers = joined("m-1")
    status, me = api("GET", "/members/me", headers)
    assert status == 200
    assert me["member_id"] == "m-1"
    assert len(me["card_number"]) == 16
    assert me["points"] == {
        "pending": 0,
        "available": 250,
        "debt": 0,
        "expiring": [],
    }
    status, again = api("POST", "/members", headers, {
        "email": "m-1@example.com", "first_name": "A", "last_name": "B", "newsletter": False,
        "partner_data_sharing": False,
    })  # fmt: skip
    assert (status, again["code"]) == (409, "MEMBER_EXISTS")


@pytest.mark.rule("L12")
def test_expiring_points_show_within_ninety_days(api, auth, joined, travel):
    joined("m-1")
    travel("2018-06-01T12:00")
    _, me = api("GET", "/members/me", auth("m-1"))  # a fresh token: the sign-up's has expired
    assert me["points"]["expiring"] == [{"points": 250, "expires_on": "2018-08-09"}]


def test_unknown_member_is_404_and_other_roles_403(api, auth):
    status, body = api("GET", "/members/me", auth("nobody"))
    assert (status, body["code"]) == (404, "MEMBER_NOT_FOUND")
    status, _ = api("GET", "/members/me", auth("pos-1", "pos"))
    assert status == 403
    status, _ = api("GET", "/members/me")
    assert status == 401


def test_join_validates_its_body(api, auth):
    status, body = api("POST", "/members", auth("m-1"), {"email": "not-an-email", "first_name": "A"})
    assert (status, body["code"]) == (400, "INVALID_REQUEST")
    fields = {e["field"] for e in body["details"]["errors"]}
    assert {"email", "last_name", "newsletter", "partner_data_sharing"} <= fields


@pytest.mark.rule("L13", "L14")
def test_patch_profile_changes_name_but_never_email(api, joined):
    headers = joined("m-1")
    status, body = api("PATCH", "/members/me", headers, {"email": "new@example.com"})
    assert (status, body["code"]) == (422, "EMAIL_IMMUTABLE")
    address = {"street": "Dam", "house_number": 1, "postcode": "1012 JS", "city": "Amsterdam", "country": "NL"}
    status, body = api("PATCH", "/members/me", headers, {"first_name": "Anna", "address": address, "newsletter": False})
    assert status == 200
    assert (body["first_name"], body["email"], body["newsletter"]) == ("Anna", "m-1@example.com", False)
    assert body["address"]["house_number"] == 1
    status, body = api("PATCH", "/members/me", headers, {"nickname": "x"})
    assert (status, body["code"]) == (400, "INVALID_REQUEST")


@pytest.mark.rule("L9")
def test_consent_via_patch_awards_once(api, joined):
    headers = joined("m-1")
    for sharing in (True, False, True):
        status, body = api("PATCH", "/members/me", headers, {"partner_data_sharing": sharing})
        assert status == 200
    assert body["points"]["available"] == 350


@pytest.mark.rule("L12")
def test_history_pages_with_cursors_newest_first(api, auth, joined, travel):
    headers = joined("m-1", sharing=True)
    pos = auth("pos-1", "pos")
    for i in range(3):
        status, _ = api("PUT", f"/receipts/R{i}", pos, receipt_body("m-1"))
        assert status == 201
    status, page1 = api("GET", "/members/me/history?limit=3", headers)
    assert status == 200
    assert len(page1["items"]) == 3 and page1["next_cursor"]
    assert page1["items"][0]["type"] == "earned" and page1["items"][0]["cause"] == "receipt:R2"
    assert page1["items"][0]["at"].endswith("+02:00")
    status, page2 = api("GET", f"/members/me/history?limit=3&cursor={page1['next_cursor']}", headers)
    assert status == 200
    causes = [i["cause"] for i in page1["items"] + page2["items"]]
    assert sorted(causes) == sorted(["receipt:R0", "receipt:R1", "receipt:R2", "welcome", "marketing_consent"])
    assert page2["next_cursor"] is None
    status, body = api("GET", "/members/me/history?cursor=garbage!", headers)
    assert (status, body["code"]) == (400, "INVALID_CURSOR")
    other = joined("m-2")
    status, body = api("GET", f"/members/me/history?cursor={page1['next_cursor']}", other)
    assert (status, body["code"]) == (400, "INVALID_CURSOR")


@pytest.mark.rule("L13", "L14")
def test_patch_refuses_any_email_with_422_and_null_names_with_400(api, joined):
    headers = joined("m-1")
    for email in (5, None, {"new": "x@example.com"}):
        status, body = api("PATCH", "/members/me", headers, {"email": email})
        assert (status, body["code"]) == (422, "EMAIL_IMMUTABLE"), email
    for field in ("first_name", "last_name", "newsletter", "partner_data_sharing"):
        status, body = api("PATCH", "/members/me", headers, {field: None})
        assert (status, body["code"]) == (400, "INVALID_REQUEST"), field
    status, me = api("PATCH", "/members/me", headers, {"address": None, "last_name": "Jansen"})
    assert (status, me["address"], me["last_name"], me["first_name"]) == (200, None, "Jansen", "Ann")


@pytest.mark.rule("L13")
def test_a_merge_retry_answers_200_with_what_the_merge_did(api, auth, joined):
    joined("m-old")
    joined("m-new")
    bo = auth("care-1", "backoffice")
    body = {"source_member_id": "m-old"}
    status, first = api("POST", "/backoffice/members/m-new/merge", bo, body)
    assert status == 200 and first["lots_moved"] == 1
    status, again = api("POST", "/backoffice/members/m-new/merge", bo, body)
    assert (status, again) == (200, first)
