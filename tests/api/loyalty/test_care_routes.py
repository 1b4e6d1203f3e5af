"""Customer care routes: GET /backoffice/members and POST /backoffice/members/{id}/adjustments."""

from __future__ import annotations

import pytest


@pytest.mark.rule("L13")
def test_customer_care_finds_a_member_by_e_mail_or_card(api, auth, joined):
    joined("m-1")
    bo = auth("care-1", "backoffice")
    status, found = api("GET", "/backoffice/members?email=M-1%40EXAMPLE.com", bo)
    assert status == 200 and [p["member_id"] for p in found["items"]] == ["m-1"]
    assert found["items"][0]["points"]["available"] == 250
    card = found["items"][0]["card_number"]
    status, by_card = api("GET", f"/backoffice/members?card_number={card}", bo)
    assert (status, by_card["items"]) == (200, found["items"])
    assert api("GET", "/backoffice/members?email=nobody%40example.com", bo) == (200, {"items": []})
    for bad in ("/backoffice/members", f"/backoffice/members?email=m-1%40example.com&card_number={card}"):
        status, refused = api("GET", bad, bo)
        assert (status, refused["code"]) == (400, "INVALID_REQUEST")


@pytest.mark.rule("L7", "L10", "L12")
def test_adjustments_add_and_take_points_and_replay(api, auth, joined):
    joined("m-1")
    bo = auth("care-1", "backoffice")
    body = {"adjustment_id": "adj-1", "points": 50, "reason": "Goodwill"}
    status, done = api("POST", "/backoffice/members/m-1/adjustments", bo, body)
    assert status == 201 and (done["points"], done["cause"], done["reason"]) == (50, "adjustment:adj-1", "Goodwill")
    assert api("POST", "/backoffice/members/m-1/adjustments", bo, body) == (200, done)
    status, conflict = api("POST", "/backoffice/members/m-1/adjustments", bo, {**body, "points": 51})
    assert (status, conflict["code"]) == (409, "ADJUSTMENT_CONFLICT")
    take = {"adjustment_id": "adj-2", "points": -280, "reason": "Correction"}
    assert api("POST", "/backoffice/members/m-1/adjustments", bo, take)[0] == 201
    status, me = api("GET", "/members/me", auth("m-1"))
    assert me["points"]["available"] == 20
    status, history = api("GET", "/members/me/history", auth("m-1"))
    adjusted = [(e["points"], e["cause"]) for e in history["items"] if e["type"] == "adjusted"]
    assert sorted(adjusted) == [(-280, "adjustment:adj-2"), (50, "adjustment:adj-1")]
    too_much = {"adjustment_id": "adj-3", "points": -21, "reason": "Correction"}
    status, short = api("POST", "/backoffice/members/m-1/adjustments", bo, too_much)
    assert (status, short["code"]) == (422, "INSUFFICIENT_POINTS")


@pytest.mark.rule("L13")
def test_adjustment_refusals_and_roles(api, auth, joined):
    joined("m-1")
    bo = auth("care-1", "backoffice")
    body = {"adjustment_id": "adj-1", "points": 10, "reason": "Goodwill"}
    for headers in (auth("m-1"), auth("pos-1", "pos")):
        assert api("POST", "/backoffice/members/m-1/adjustments", headers, body)[0] == 403
        assert api("GET", "/backoffice/members?email=m-1%40example.com", headers)[0] == 403
    status, missing = api("POST", "/backoffice/members/m-9/adjustments", bo, body)
    assert (status, missing["code"]) == (404, "MEMBER_NOT_FOUND")
    for bad in ({**body, "points": 0}, {**body, "reason": ""}, {**body, "points": "10"}, {"points": 10}):
        assert api("POST", "/backoffice/members/m-1/adjustments", bo, bad)[0] == 400
    joined("m-2")
    api("POST", "/backoffice/members/m-2/merge", bo, {"source_member_id": "m-1"})
    status, gone = api("POST", "/backoffice/members/m-1/adjustments", bo, body)
    assert (status, gone["code"]) == (410, "ACCOUNT_MERGED")
