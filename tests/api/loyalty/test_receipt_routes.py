"""Receipts, registration, returns, merge and the nightly run through the Chalice client."""

from __future__ import annotations

import pytest

from chalicelib.loyalty import member_store
from tests.api.loyalty.conftest import receipt_body


@pytest.mark.rule("L1", "L2", "L4", "L6")
def test_put_receipt_creates_replays_and_conflicts(api, auth, joined):
    joined("m-1")
    pos = auth("pos-1", "pos")
    status, body = api("PUT", "/receipts/R1", pos, receipt_body("m-1"))
    assert status == 201
    assert body == {"receipt_id": "R1", "member_id": "m-1", "points": 649, "matures_on": "2017-09-09"}
    status, again = api("PUT", "/receipts/R1", pos, receipt_body("m-1"))
    assert (status, again) == (200, body)
    status, conflict = api("PUT", "/receipts/R1", pos, receipt_body("m-1", coupon_discount_cents=100))
    assert (status, conflict["code"]) == (409, "RECEIPT_CONFLICT")


def test_put_receipt_needs_pos_role_and_a_valid_body(api, auth, joined):
    member = joined("m-1")
    status, _ = api("PUT", "/receipts/R1", member, receipt_body("m-1"))
    assert status == 403
    pos = auth("pos-1", "pos")
    status, body = api("PUT", "/receipts/R1", pos, receipt_body("m-1", card_number="123"))
    assert (status, body["code"]) == (400, "INVALID_REQUEST")
    status, body = api("PUT", "/receipts/R1", pos, receipt_body(purchased_at="2017-08-10T14:03:00"))
    assert status == 400
    status, body = api("PUT", "/receipts/R1", pos, receipt_body("m-unknown"))
    assert (status, body["code"]) == (422, "MEMBER_NOT_FOUND")


@pytest.mark.rule("G1", "L6")
def test_purchase_date_is_the_amsterdam_date_of_purchased_at(api, auth, joined):
    joined("m-1")
    late = receipt_body("m-1", purchased_at="2017-08-09T22:30:00Z")  # 00:30 on 10 August in Amsterdam
    status, body = api("PUT", "/receipts/R1", auth("pos-1", "pos"), late)
    assert (status, body["matures_on"]) == (201, "2017-09-09")


@pytest.mark.rule("L4")
def test_receipt_by_card_number(api, auth, joined):
    headers = joined("m-1")
    _, me = api("GET", "/members/me", headers)
    status, body = api("PUT", "/receipts/R1", auth("pos-1", "pos"), receipt_body(card_number=me["card_number"]))
    assert (status, body["member_id"], body["points"]) == (201, "m-1", 649)


@pytest.mark.rule("L5")
def test_register_an_anonymous_receipt(api, auth, joined):
    headers = joined("m-1")
    other = joined("m-2")
    pos = auth("pos-1", "pos")
    api("PUT", "/receipts/R1", pos, receipt_body())
    status, body = api("POST", "/members/me/receipts", headers, {"receipt_id": "R1"})
    assert (status, body["member_id"], body["points"]) == (201, "m-1", 649)
    status, again = api("POST", "/members/me/receipts", headers, {"receipt_id": "R1"})
    assert (status, again) == (200, body)
    status, taken = api("POST", "/members/me/receipts", other, {"receipt_id": "R1"})
    assert (status, taken["code"]) == (409, "RECEIPT_ALREADY_REGISTERED")
    status, missing = api("POST", "/members/me/receipts", headers, {"receipt_id": "R9"})
    assert (status, missing["code"]) == (404, "RECEIPT_NOT_FOUND")
    api("PUT", "/receipts/M1", pos, receipt_body(channel="marketplace"))
    status, refused = api("POST", "/members/me/receipts", headers, {"receipt_id": "M1"})
    assert (status, refused["code"]) == (422, "RECEIPT_NOT_ELIGIBLE")
    status, mine = api("GET", "/members/me/receipts", headers)
    assert status == 200
    assert [(r["receipt_id"], r["points"], r["matures_on"]) for r in mine["items"]] == [("R1", 649, "2017-09-09")]
    assert mine["next_cursor"] is None


@pytest.mark.rule("L11")
def test_return_route_answers_and_replays(api, auth, joined):
    joined("m-1")
    pos = auth("pos-1", "pos")
    api("PUT", "/receipts/R1", pos, receipt_body("m-1"))
    ret = {"return_id": "ret-1", "returned_at": "2017-08-15T10:00:00+02:00", "lines": [{"line_id": "1", "quantity": 1}]}
    status, body = api("POST", "/receipts/R1/returns", pos, ret)
    assert status == 201
    assert body["points_reversed"] == 649
    assert isinstance(body["coupons_restored"], list) and isinstance(body["claims_voided"], list)
    status, again = api("POST", "/receipts/R1/returns", pos, ret)
    assert (status, again) == (200, body)
    too_many = {**ret, "return_id": "ret-2"}
    status, refused = api("POST", "/receipts/R1/returns", pos, too_many)
    assert (status, refused["code"]) == (422, "RETURN_EXCEEDS_PURCHASE")
    status, missing = api("POST", "/receipts/R404/returns", pos, {**ret, "return_id": "ret-3"})
    assert (status, missing["code"]) == (404, "RECEIPT_NOT_FOUND")


@pytest.mark.rule("L6", "L7")
def test_back_office_catch_up_run_matures_points(api, auth, joined, travel, run_job):
    joined("m-1")
    api("PUT", "/receipts/R1", auth("pos-1", "pos"), receipt_body("m-1"))
    travel("2017-09-10T09:00")
    run = run_job("nightly_loyalty", "2017-09-09")
    assert (run["status"], run["trigger"], run["as_of"]) == ("done", "manual", "2017-09-09")
    assert run["summary"]["lots_matured"] == 1
    _, me = api("GET", "/members/me", auth("m-1"))
    assert (me["points"]["pending"], me["points"]["available"]) == (0, 899)


@pytest.mark.rule("L6", "G1")
def test_scheduled_event_takes_today_from_its_time(client, api, auth, joined, drain):
    joined("m-1")
    api("PUT", "/receipts/R1", auth("pos-1", "pos"), receipt_body("m-1"))
    event = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[], region="eu-west-1"
    )
    event["time"] = "2017-09-08T23:30:00Z"  # 01:30 on 9 September in Amsterdam
    started = client.lambda_.invoke("nightly_loyalty", event).payload
    assert (started["as_of"], started["trigger"], started["status"]) == ("2017-09-09", "schedule", "running")
    drain()
    _, run = api("GET", f"/backoffice/jobs/nightly_loyalty/runs/{started['run_id']}", auth("bo", "backoffice"))
    assert (run["status"], run["summary"]["lots_matured"]) == ("done", 1)
    assert member_store.get_member("m-1").balance.available == 899


@pytest.mark.rule("L13")
def test_merge_route_and_gone_source(api, auth, joined, monkeypatch):
    monkeypatch.setattr("chalicelib.coupons.service.transfer_coupons", lambda s, t: [])
    old = joined("m-old")
    joined("m-new")
    api("PUT", "/receipts/R1", auth("pos-1", "pos"), receipt_body("m-old"))
    bo = auth("bo", "backoffice")
    status, body = api("POST", "/backoffice/members/m-new/merge", bo, {"source_member_id": "m-old"})
    assert status == 200
    assert (body["lots_moved"], body["receipts_moved"]) == (2, 1)
    for method, path in (("GET", "/members/me"), ("GET", "/members/me/history"), ("GET", "/members/me/receipts")):
        status, gone = api(method, path, old)
        assert (status, gone["code"]) == (410, "ACCOUNT_MERGED")
    status, gone = api("PATCH", "/members/me", old, {"first_name": "X"})
    assert status == 410
    status, _ = api("POST", "/backoffice/members/m-new/merge", auth("m-new"), {"source_member_id": "m-old"})
    assert status == 403
    status, same = api("POST", "/backoffice/members/m-new/merge", bo, {"source_member_id": "m-new"})
    assert (status, same["code"]) == (422, "MERGE_SAME_ACCOUNT")


@pytest.mark.rule("L13")
def test_a_merged_account_gets_410_on_every_member_route_whatever_it_sends(api, auth, joined):
    old = joined("m-old")
    joined("m-new")
    status, _ = api("POST", "/backoffice/members/m-new/merge", auth("bo", "backoffice"), {"source_member_id": "m-old"})
    assert status == 200
    join = {"email": "m-old@example.com", "first_name": "A", "last_name": "B", "newsletter": False}
    calls = [
        ("POST", "/members", {**join, "partner_data_sharing": False}),  # not 409 MEMBER_EXISTS
        ("PATCH", "/members/me", {"email": "new@example.com"}),  # not 422 EMAIL_IMMUTABLE
        ("PATCH", "/members/me", b"{not json"),  # not 400
        ("POST", "/members/me/receipts", {}),
        ("GET", "/members/me/history?limit=0", None),
        ("GET", "/members/me/coupons?cursor=zzz", None),
        ("POST", "/members/me/coupons", {"amount_cents": 2000}),  # no Idempotency-Key: still 410
    ]
    for method, path, body in calls:
        status, gone = api(method, path, old, body)
        assert (status, gone["code"], gone["details"]) == (410, "ACCOUNT_MERGED", {"merged_into": "m-new"}), path


def test_forged_page_cursors_are_400_never_500(api, joined):
    import base64
    import json

    headers = joined("m-1")

    def forged(key: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")

    for path in ("/members/me/history", "/members/me/receipts"):
        for key in ({"member_id": {"S": "m-1"}}, {"member_id": {"S": "m-1"}, "entry_id": 5, "at_key": {"N": "x"}}):
            status, body = api("GET", f"{path}?cursor={forged(key)}", headers)
            assert (status, body["code"]) == (400, "INVALID_CURSOR"), (path, key)
    api("PATCH", "/members/me", headers, {"partner_data_sharing": True})
    _, first = api("GET", "/members/me/history?limit=1", headers)  # a real cursor still works
    status, page = api("GET", f"/members/me/history?limit=1&cursor={first['next_cursor']}", headers)
    assert status == 200 and len(page["items"]) == 1


def test_receipt_ids_and_instants_out_of_range_are_400_never_500(api, auth, joined):
    joined("m-1")
    pos = auth("pos-1", "pos")
    for purchased_at in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"):
        status, body = api("PUT", "/receipts/R-far", pos, receipt_body("m-1", purchased_at=purchased_at))
        assert (status, body["code"]) == (400, "INVALID_REQUEST"), purchased_at
    status, body = api("PUT", "/receipts/" + "x" * 129, pos, receipt_body("m-1"))
    assert (status, body["code"]) == (400, "INVALID_RECEIPT_ID")
    status, body = api("PUT", "/receipts/R-1", pos, receipt_body("m-1", coupon_discount_cents=10**40))
    assert (status, body["code"]) == (400, "INVALID_REQUEST")
    huge = receipt_body("m-1")
    huge["lines"][0]["unit_price_cents"] = 10**40
    status, body = api("PUT", "/receipts/R-1", pos, huge)
    assert (status, body["code"]) == (400, "INVALID_REQUEST")
    assert api("PUT", "/receipts/R-1", pos, receipt_body("m-1"))[0] == 201
    ret = {"return_id": "ret-1", "returned_at": "0001-01-01T00:00:00+14:00", "lines": [{"line_id": "1", "quantity": 1}]}
    status, body = api("POST", "/receipts/R-1/returns", pos, ret)
    assert (status, body["code"]) == (400, "INVALID_REQUEST")


def test_a_receipt_body_may_repeat_its_path_id(api, auth, joined):
    joined("m-1")
    pos = auth("pos-1", "pos")
    status, first = api("PUT", "/receipts/R-1", pos, receipt_body("m-1", receipt_id="R-1"))
    assert status == 201
    assert api("PUT", "/receipts/R-1", pos, receipt_body("m-1")) == (200, first)  # the same receipt
    status, body = api("PUT", "/receipts/R-1", pos, receipt_body("m-1", receipt_id="R-2"))
    assert (status, body["code"]) == (400, "RECEIPT_ID_MISMATCH")


def test_wrong_json_types_are_400_not_coerced(api, auth, joined):
    headers = joined("m-1")
    for patch in ({"newsletter": "yes"}, {"partner_data_sharing": 1}):
        status, body = api("PATCH", "/members/me", headers, patch)
        assert (status, body["code"]) == (400, "INVALID_REQUEST"), patch
    address = {"street": "Dam", "house_number": "1", "postcode": "1012JS", "city": "Amsterdam", "country": "NL"}
    status, body = api("PATCH", "/members/me", headers, {"address": address})
    assert (status, body["code"]) == (400, "INVALID_REQUEST")
    _, me = api("GET", "/members/me", headers)
    assert (me["newsletter"], me["partner_data_sharing"], me["address"]) == (True, False, None)


def test_my_receipts_page_with_the_cursor_they_hand_out(api, auth, joined):
    headers = joined("m-1")
    pos = auth("pos-1", "pos")
    for n, day in ((1, "08"), (2, "09"), (3, "10")):
        api("PUT", f"/receipts/R-{n}", pos, receipt_body("m-1", purchased_at=f"2017-08-{day}T10:00:00+02:00"))
    seen: list[str] = []
    path = "/members/me/receipts?limit=2"
    while path:
        status, page = api("GET", path, headers)
        assert status == 200, page
        seen += [r["receipt_id"] for r in page["items"]]
        path = page["next_cursor"] and f"/members/me/receipts?limit=2&cursor={page['next_cursor']}"
    assert seen == ["R-3", "R-2", "R-1"]  # newest first, each once
    first = api("GET", "/members/me/receipts?limit=1", headers)[1]
    status, body = api("GET", f"/members/me/receipts?cursor={first['next_cursor']}", joined("m-2"))
    assert (status, body["code"]) == (400, "INVALID_CURSOR")  # another member's cursor


@pytest.mark.rule("L11")
@pytest.mark.parametrize("tag", ["B", "S", "N", "L", "M", "SS", "NULL", "BOOL"])
def test_a_line_id_that_is_a_dynamodb_type_tag_returns_like_any_other(api, auth, joined, tag):
    joined("m-1")
    pos = auth("pos-1", "pos")
    body = receipt_body("m-1")
    body["lines"][0]["line_id"], body["lines"][0]["quantity"] = tag, 2
    assert api("PUT", "/receipts/R1", pos, body)[0] == 201
    for n in (1, 2):
        ret = {
            "return_id": f"ret-{n}",
            "returned_at": "2017-08-15T10:00:00+02:00",
            "lines": [{"line_id": tag, "quantity": 1}],
        }
        status, answer = api("POST", "/receipts/R1/returns", pos, ret)
        assert (status, answer["points_reversed"]) == (201, 649), answer
    status, mine = api("GET", "/members/me/receipts", auth("m-1"))
    assert (status, mine["items"][0]["returned"], mine["items"][0]["points"]) == (200, {tag: 2}, 0)
