"""The trade-in contract through the Chalice client: statuses, error codes, roles, events."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta

import pytest

from chalicelib.clock import AMSTERDAM
from tests.integration.tradein.helpers import (
    JPEG,
    PARTICIPANT,
    claim,
    other_address,
    registration,
    sent_messages,
)

PERSONAL = ("Jansen", "jan.jansen@example.nl", "0612345678", "1980-05-17", "NL91ABNA0417164300", "Damstraat")


def test_campaigns_list_the_seeded_terms(tradein):
    status, body = tradein.api("GET", "/tradein/campaigns")
    assert status == 200
    seeded = next(c for c in body["items"] if c["campaign_id"] == "meer-laptop-2017")
    assert seeded["starts_at"] == "2017-08-07T00:01:00+02:00"
    assert seeded["ends_at"].startswith("2017-08-27T23:59")
    assert (seeded["min_line_price_cents"], seeded["reward_cents"]) == (59900, 10000)
    assert seeded["excluded_brands"] == ["Apple"] and seeded["channels"] == ["store", "webshop"]
    assert seeded["registration_window_days"] == {"first": 30, "last": 60}
    assert seeded["device_criteria"]["min_screen_inches"] == 10


def test_campaign_leaves_the_list_when_registration_closed_and_no_claim_is_open(tradein, travel):
    travel("2017-11-01T10:00")  # the last purchase day's window closed on 2017-10-25
    _, body = tradein.api("GET", "/tradein/campaigns")
    assert "meer-laptop-2017" not in [c["campaign_id"] for c in body["items"]]


@pytest.mark.rule("T1")
@pytest.mark.parametrize(
    ("receipt", "reason"),
    [
        ({"purchased_at": "2017-08-07T00:00:00+02:00"}, "OUTSIDE_CAMPAIGN_PERIOD"),
        ({"purchased_at": "2017-08-28T00:00:30+02:00"}, "OUTSIDE_CAMPAIGN_PERIOD"),
        ({"channel": "marketplace"}, "CHANNEL_EXCLUDED"),
        ({"channel": "outlet"}, "CHANNEL_EXCLUDED"),
        ({"unit_price_cents": 59899}, "PRICE_TOO_LOW"),
        ({"brand": "APPLE"}, "BRAND_EXCLUDED"),
        ({"category": "tablet"}, "NOT_A_LAPTOP"),
        ({"seller": "external"}, "NOT_A_LAPTOP"),
    ],
)
def test_purchase_that_does_not_qualify_is_422(tradein, receipt, reason):
    purchased_at = receipt.pop("purchased_at", "2017-08-10T14:00:00+02:00")
    tradein.receipt("R-1", purchased_at=purchased_at, **receipt)
    status, body = tradein.register("R-1")
    if reason == "OUTSIDE_CAMPAIGN_PERIOD" and status == 422 and body["code"] == "OUTSIDE_REGISTRATION_WINDOW":
        pytest.fail("the period check must come before the window check")
    assert (status, body["code"]) == (422, "PURCHASE_NOT_ELIGIBLE")
    assert reason in body["details"]["reasons"]


@pytest.mark.rule("T1")
def test_purchase_at_the_periods_edges_and_by_webshop_qualifies(tradein, travel):
    travel("2017-09-06T10:00")  # day 31 of the first minute's purchase, day 11 of none
    tradein.receipt("R-FIRST", purchased_at="2017-08-07T00:01:00+02:00", channel="webshop")
    assert tradein.register("R-FIRST")[0] == 201
    travel("2017-09-26T10:00")  # day 31 after 27 August
    tradein.receipt("R-LAST", purchased_at="2017-08-27T23:59:00+02:00", unit_price_cents=59900)
    status, body = tradein.register("R-LAST", participant={"address": other_address(1)})
    assert status == 201, body


@pytest.mark.rule("T1", "T12")
def test_a_returned_laptop_cannot_be_claimed(tradein):
    tradein.receipt("R-RET")
    status, _ = tradein.api(
        "POST",
        "/receipts/R-RET/returns",
        tradein.auth("pos-1", "pos"),
        {"return_id": "RT-0", "returned_at": "2017-08-20T10:00:00+02:00", "lines": [{"line_id": "1", "quantity": 1}]},
    )
    assert status == 201
    status, body = tradein.register("R-RET")
    assert (status, body["code"], body["details"]["reasons"]) == (422, "PURCHASE_NOT_ELIGIBLE", ["RETURNED"])


@pytest.mark.rule("T2")
@pytest.mark.parametrize(
    ("now", "ok"),
    [("2017-09-07T23:59", False), ("2017-09-08T00:00", True), ("2017-10-08T23:59", True), ("2017-10-09T00:00", False)],
)
def test_registration_window_is_day_30_to_day_60_counting_the_purchase_day(tradein, travel, now, ok):
    tradein.receipt("R-W")  # bought 2017-08-10: day 30 is 2017-09-08, day 60 is 2017-10-08
    travel(now)
    status, body = tradein.register("R-W")
    if ok:
        assert status == 201, body
    else:
        assert (status, body["code"]) == (422, "OUTSIDE_REGISTRATION_WINDOW")
        assert body["details"]["opens_on"] == "2017-09-08" and body["details"]["closes_on"] == "2017-10-08"


@pytest.mark.rule("T3")
def test_one_claim_per_address_normalised_and_per_laptop(tradein):
    first = tradein.claim_for("R-A")
    tradein.receipt("R-B")
    same_address = {**PARTICIPANT["address"], "postcode": "1012js", "house_number_suffix": "A"}
    status, body = tradein.register("R-B", participant={"address": same_address, "email": "other@example.nl"})
    assert (status, body["code"]) == (409, "ADDRESS_ALREADY_CLAIMED")
    status, body = tradein.register("R-A", participant={"address": other_address(2)})
    assert (status, body["code"]) == (409, "PURCHASE_ALREADY_CLAIMED")
    status, replay = tradein.register("R-A")  # a retry of the same registration: the same claim
    assert (status, replay["claim_number"], replay["status"]) == (200, first, "awaiting_proof")
    other_suffix = {**PARTICIPANT["address"], "house_number_suffix": "b"}
    assert tradein.register("R-B", participant={"address": other_suffix})[0] == 201


@pytest.mark.rule("T4")
@pytest.mark.parametrize(
    ("participant", "reason"),
    [
        ({"birth_date": "2001-09-12"}, "TOO_YOUNG"),  # 16 today: not yet *before* the registration date
        ({"email": "jan@mediamarkt.nl"}, "EMPLOYEE_DOMAIN"),
        ({"email": "jan@research.intel.com"}, "EMPLOYEE_DOMAIN"),
        ({"email": "jan@"}, "INVALID_EMAIL"),
        ({"iban": "NL91ABNA0417164301"}, "INVALID_IBAN"),
        ({"address": {**PARTICIPANT["address"], "country": "BE"}}, "NOT_NETHERLANDS"),
        ({"address": {**PARTICIPANT["address"], "postcode": "0123 AB"}}, "INVALID_POSTCODE"),
    ],
)
def test_participant_who_does_not_qualify_is_422(tradein, participant, reason):
    tradein.receipt("R-P")
    status, body = tradein.register("R-P", participant=participant)
    assert (status, body["code"]) == (422, "PARTICIPANT_NOT_ELIGIBLE")
    assert reason in [p["reason"] for p in body["details"]["problems"]]
    assert not any(value in json.dumps(body) for value in PERSONAL)


@pytest.mark.rule("T4")
def test_sixteenth_birthday_the_day_before_is_enough_and_every_declaration_is_required(tradein):
    tradein.receipt("R-D")
    status, body = tradein.register("R-D", declarations={"legal_owner": False, "data_removed": False})
    assert (status, body["code"], body["details"]["missing"]) == (
        422,
        "DECLARATION_MISSING",
        ["data_removed", "legal_owner"],
    )
    assert tradein.register("R-D", participant={"birth_date": "2001-09-11"})[0] == 201


@pytest.mark.rule("T4")
def test_missing_or_malformed_fields_are_400(tradein):
    tradein.receipt("R-M")
    body = {"campaign_id": "meer-laptop-2017", "receipt_id": "R-M", "laptop_line_id": "1"}
    status, answer = tradein.api("POST", "/tradein/claims", tradein.public, body)
    assert (status, answer["code"]) == (400, "INVALID_REQUEST")
    status, answer = tradein.register("R-M", old_device={"working": "yes"})
    assert (status, answer["code"]) == (400, "INVALID_REQUEST")


@pytest.mark.parametrize(
    "changes",
    [
        {"participant": {"birth_date": 0}},  # a number is not a date (it was read as 1970-01-01)
        {"participant": {"birth_date": "1980-05-17T00:00:00"}},
        {"old_device": {"purchased_on": 1400000000}},
        {"old_device": {"screen_inches": True}},  # a boolean is not a size
        {"old_device": {"screen_inches": "13.3"}},
        {"participant": {"address": {**PARTICIPANT["address"], "house_number": "12"}}},
    ],
)
def test_wrong_types_are_400_not_coerced(tradein, changes):
    tradein.receipt("R-T")
    status, answer = tradein.register("R-T", **changes)
    assert (status, answer["code"]) == (400, "INVALID_REQUEST"), answer
    assert tradein.register("R-T", old_device={"screen_inches": 13})[0] == 201  # an integer size is fine


def test_device_received_needs_a_date_string(tradein):
    number = tradein.claim_for("R-DR")
    tradein.upload(number)
    for received_on in (20170912, "12-09-2017", None):
        status, body = tradein.bo("POST", f"/backoffice/claims/{number}/device-received", {"received_on": received_on})
        assert (status, body["code"]) == (400, "INVALID_REQUEST")


@pytest.mark.rule("T5")
@pytest.mark.parametrize(
    ("device", "reason"),
    [
        ({"working": False}, "WORKING"),
        ({"undamaged": False}, "UNDAMAGED"),
        ({"battery_ok": False}, "BATTERY_OK"),
        ({"charger_included": False}, "CHARGER_INCLUDED"),
        ({"complete": False}, "COMPLETE"),
        ({"screen_inches": 9.9}, "SCREEN_TOO_SMALL"),
        ({"purchased_on": "2011-09-11"}, "TOO_OLD"),
    ],
)
def test_old_laptop_that_does_not_qualify_is_422(tradein, device, reason):
    tradein.receipt("R-O")
    status, body = tradein.register("R-O", old_device=device)
    assert (status, body["code"]) == (422, "DEVICE_NOT_ELIGIBLE")
    assert reason in body["details"]["reasons"]


def test_unknown_campaign_and_receipt_are_404(tradein):
    tradein.receipt("R-X")
    status, body = tradein.register("R-X", campaign_id="nope")
    assert (status, body["code"]) == (404, "CAMPAIGN_NOT_FOUND")
    status, body = tradein.register("R-NOPE")
    assert (status, body["code"]) == (404, "RECEIPT_NOT_FOUND")


@pytest.mark.rule("T13")
def test_registration_records_the_client_ip_and_signs_a_narrow_upload_policy(tradein):
    tradein.receipt("R-U")
    status, body = tradein.register("R-U", proof_content_type="image/jpeg")
    assert status == 201
    number = body["claim_number"]
    assert claim(number).client_ip == "127.0.0.1"
    assert len(number) == 8 and number.isalnum() and number.isupper()
    upload = body["upload"]
    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    conditions = policy["conditions"]
    # Item 5: one exact new key per upload, never a prefix (a checked proof cannot be overwritten).
    key = body["upload"]["fields"]["key"]
    assert key.startswith(f"proofs/{number}/") and len(key.split("/")) == 3
    assert {"key": key} in conditions
    assert not [c for c in conditions if isinstance(c, list) and c[0] == "starts-with"]
    assert {"Content-Type": "image/jpeg"} in conditions
    assert ["content-length-range", 1, 10 * 1024 * 1024] in conditions
    assert upload["max_bytes"] == 10 * 1024 * 1024
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    registered_at = datetime(2017, 9, 12, 10, 0, tzinfo=AMSTERDAM)  # the fixture's clock (it ticks)
    assert timedelta(minutes=15) <= expires - registered_at < timedelta(minutes=16)
    assert abs(expires - datetime.fromisoformat(upload["expires_at"])) < timedelta(seconds=5)
    assert tradein.upload(number, JPEG, "bon.jpg")["attached"] == 1


@pytest.mark.rule("T14")
def test_tracking_needs_the_postcode_and_shows_no_personal_data(tradein):
    number = tradein.claim_for("R-T")
    status, body = tradein.track(number, "1012%20js")
    assert status == 200
    assert set(body) == {"claim_number", "campaign_id", "status", "timeline", "reward_cents", "deadlines", "next_step"}
    assert body["deadlines"] == {"proof_by": "2017-10-08", "device_by": "2017-10-08"}
    assert not any(value in json.dumps(body) for value in PERSONAL)
    assert tradein.track(number, "9999ZZ")[0] == 404
    status, wrong = tradein.track("ZZZZ2222")
    assert (status, wrong["code"]) == (404, "CLAIM_NOT_FOUND")
    status, missing = tradein.api("GET", f"/tradein/claims/{number}")
    assert (status, missing["code"]) == (400, "POSTCODE_REQUIRED")


def test_a_fresh_upload_only_while_waiting_for_the_proof(tradein):
    number = tradein.claim_for("R-F")
    status, body = tradein.api("POST", f"/tradein/claims/{number}/upload", tradein.public, {"postcode": "1012JS"})
    assert status == 200 and body["upload"]["fields"]["key"].startswith(f"proofs/{number}/")
    tradein.upload(number)
    status, body = tradein.api("POST", f"/tradein/claims/{number}/upload", tradein.public, {"postcode": "1012JS"})
    assert (status, body["code"]) == (409, "PROOF_ALREADY_RECEIVED")


@pytest.mark.rule("T2")
def test_a_fresh_upload_after_the_claim_lapsed_for_its_proof_is_422(tradein, travel):
    number = tradein.claim_for("R-FL")
    travel("2017-10-09T03:00")  # day 61: the nightly lapses the claim without a proof
    assert tradein.nightly("2017-10-09")["lapsed"] == 1
    status, body = tradein.api("POST", f"/tradein/claims/{number}/upload", tradein.public, {"postcode": "1012JS"})
    assert (status, body["code"]) == (422, "OUTSIDE_REGISTRATION_WINDOW")


@pytest.mark.rule("T7")
def test_missing_bank_details_make_the_claim_incomplete_until_patched(tradein):
    tradein.receipt("R-I")
    body = registration("R-I")
    del body["participant"]["iban"], body["participant"]["account_holder"]
    status, body = tradein.api("POST", "/tradein/claims", tradein.public, body)
    assert status == 201
    number = body["claim_number"]
    tradein.upload(number)
    status, tracked = tradein.track(number)
    assert tracked["status"] == "incomplete"
    assert tracked["deadlines"]["complete_by"] == "2017-09-21"  # 7 working days after Tuesday 12 September
    assert "iban" in sent_messages()[-1].body or "IBAN" in sent_messages()[-1].body
    path = f"/tradein/claims/{number}"
    status, body = tradein.api(
        "PATCH", path, tradein.public, {"postcode": "1012JS", "participant": {"iban": "NL00XXXX"}}
    )
    assert (status, body["code"]) == (422, "PARTICIPANT_NOT_ELIGIBLE")
    patch = {"postcode": "1012JS", "participant": {"iban": "NL91 ABNA 0417 1643 00", "account_holder": "J. Jansen"}}
    status, body = tradein.api("PATCH", path, tradein.public, patch)
    assert (status, body["status"]) == (200, "awaiting_device")
    assert claim(number).participant.iban == "NL91ABNA0417164300"
    sent = len(sent_messages())
    # A retried completion answers the same (API.md: retried writes are safe); nothing is sent twice.
    assert tradein.api("PATCH", path, tradein.public, patch) == (status, body)
    assert len(sent_messages()) == sent
    other = {"postcode": "1012JS", "participant": {"iban": "NL91ABNA0417164300", "account_holder": "Iemand"}}
    status, body = tradein.api("PATCH", path, tradein.public, other)
    assert (status, body["code"]) == (409, "ILLEGAL_TRANSITION")


@pytest.mark.rule("T7")
def test_empty_bank_fields_count_as_left_out(tradein):
    tradein.receipt("R-E")
    status, body = tradein.register("R-E", participant={"iban": "", "account_holder": " "})
    assert status == 201, body
    tradein.upload(body["claim_number"])
    assert tradein.track(body["claim_number"])[1]["status"] == "incomplete"


@pytest.mark.rule("T7")
def test_completing_after_the_claim_lapsed_is_422(tradein, travel):
    tradein.receipt("R-IL")
    body = registration("R-IL")
    del body["participant"]["iban"], body["participant"]["account_holder"]
    number = tradein.api("POST", "/tradein/claims", tradein.public, body)[1]["claim_number"]
    tradein.upload(number)
    travel("2017-09-22T03:00")
    assert tradein.nightly("2017-09-22")["lapsed"] == 1
    patch = {"postcode": "1012JS", "participant": {"iban": "NL91ABNA0417164300", "account_holder": "J. Jansen"}}
    status, body = tradein.api("PATCH", f"/tradein/claims/{number}", tradein.public, patch)
    assert (status, body["code"]) == (422, "COMPLETION_DEADLINE_PASSED")
    assert claim(number).status == "lapsed"


@pytest.mark.rule("T15")
def test_backoffice_lists_claims_masked_with_flags_and_needs_the_role(tradein):
    number = tradein.claim_for("R-L")
    assert tradein.api("GET", "/backoffice/claims", tradein.auth("m-1"))[0] == 403
    assert tradein.api("GET", "/backoffice/claims")[0] == 401
    status, body = tradein.bo("GET", "/backoffice/claims?status=awaiting_proof")
    assert status == 200
    [item] = body["items"]
    assert item["claim_number"] == number and item["flags"] == []
    assert item["participant"]["iban"] == "NL** **** **** **43 00"
    assert not any(value in json.dumps(body) for value in PERSONAL)
    assert tradein.bo("GET", "/backoffice/claims?status=nope")[0] == 400


def test_backoffice_listing_pages_through_all_statuses(tradein):
    numbers = {tradein.claim_for(f"R-PG{i}", participant={"address": other_address(i)}) for i in range(3)}
    tradein.upload(sorted(numbers)[0])
    seen, cursor = [], None
    while True:
        status, body = tradein.bo("GET", "/backoffice/claims?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200 and len(body["items"]) <= 2
        seen += [i["claim_number"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(numbers)
    status, body = tradein.bo("GET", "/backoffice/claims?status=&cursor=")  # empty parameters: no filter
    assert status == 200 and sorted(i["claim_number"] for i in body["items"]) == sorted(numbers)
    assert tradein.bo("GET", "/backoffice/claims?status=nope")[1]["code"] == "INVALID_STATUS"


def _cursor(value):
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        {"status": "awaiting_proof", "key": "x"},
        {"status": "awaiting_proof", "key": {"claim_number": "X"}},
        {"status": "awaiting_proof", "key": {"claim_number": {"S": "X"}, "registered_at": None, "status": 1}},
        {"status": "paid", "key": {"claim_number": {"S": "X"}, "registered_at": {"S": "x"}, "status": {"S": "void"}}},
        {"status": "no_such_status", "key": None},
        {
            "status": "awaiting_proof",
            "key": {"claim_number": {"S": "X" * 3000}, "registered_at": {"S": "x"}, "status": {"S": "awaiting_proof"}},
        },
        {"key": None},
    ],
)
def test_a_tampered_backoffice_cursor_is_400_never_500(tradein, cursor):
    tradein.claim_for("R-C")
    status, body = tradein.bo("GET", f"/backoffice/claims?limit=1&cursor={_cursor(cursor)}")
    assert (status, body["code"]) == (400, "INVALID_CURSOR")
    status, body = tradein.bo("GET", f"/backoffice/payouts?cursor={_cursor(cursor)}")
    assert (status, body["code"]) == (400, "INVALID_CURSOR")


def test_payouts_page_with_their_cursor(tradein):
    from chalicelib.tradein import payout_store

    for day in (1, 2, 3):
        batch = {
            "batch_id": f"P2017092{day}-TEST",
            "execution_date": f"2017-09-2{day}",
            "created_on": f"2017-09-2{day}",
            "claims": [],
            "total_cents": 0,
            "file_key": f"payouts/P2017092{day}-TEST.xml",
        }
        payout_store.schedule_batch(batch, [], datetime(2017, 9, 20 + day).date())
    seen, cursor = [], None
    while True:
        status, body = tradein.bo("GET", "/backoffice/payouts?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200, body
        seen += [b["batch_id"] for b in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == ["P20170923-TEST", "P20170922-TEST", "P20170921-TEST"]


@pytest.mark.rule("T13")
def test_disqualification_is_final_and_later_transitions_are_409(tradein):
    number = tradein.claim_for("R-Q")
    status, body = tradein.bo("POST", f"/backoffice/claims/{number}/disqualify", {"reason": "Vervalst aankoopbewijs"})
    assert (status, body["status"]) == (200, "disqualified")
    status, body = tradein.bo("POST", f"/backoffice/claims/{number}/disqualify", {"reason": "again"})
    assert (status, body["code"]) == (409, "ILLEGAL_TRANSITION")
    assert body["details"] == {"from": "disqualified", "to": "disqualified"}
    status, body = tradein.bo("POST", f"/backoffice/claims/{number}/device-received", {"received_on": "2017-09-12"})
    assert (status, body["code"]) == (409, "ILLEGAL_TRANSITION")
    assert "uitgesloten" in sent_messages()[-1].subject


@pytest.mark.rule("T12")
def test_returning_the_new_laptop_voids_the_claim_at_once(tradein):
    number = tradein.claim_for("R-V")
    tradein.upload(number)
    body = {"return_id": "RT-1", "returned_at": "2017-09-12T12:00:00+02:00", "lines": [{"line_id": "1", "quantity": 1}]}
    status, answer = tradein.api("POST", "/receipts/R-V/returns", tradein.auth("pos-1", "pos"), body)
    assert status == 201 and answer["claims_voided"] == [number]
    assert claim(number).status == "void"
    status, again = tradein.api("POST", "/receipts/R-V/returns", tradein.auth("pos-1", "pos"), body)
    assert status == 200 and again["claims_voided"] == [number]


def test_inspection_input_is_checked(tradein):
    number = tradein.claim_for("R-N")
    path = f"/backoffice/claims/{number}/inspection"
    assert tradein.bo("POST", path, {"outcome": "rejected"})[0] == 400
    assert tradein.bo("POST", path, {"outcome": "revised", "reason": "krassen"})[0] == 400
    status, body = tradein.bo("POST", path, {"outcome": "approved"})
    assert (status, body["code"]) == (409, "ILLEGAL_TRANSITION")
    assert tradein.bo("POST", "/backoffice/claims/NOPE2222/inspection", {"outcome": "approved"})[0] == 404


@pytest.mark.rule("T9")
def test_an_approval_may_name_its_full_reward(tradein):
    number = tradein.claim_for("R-AP")
    tradein.upload(number)
    tradein.bo("POST", f"/backoffice/claims/{number}/device-received", {"received_on": "2017-09-12"})
    path = f"/backoffice/claims/{number}/inspection"
    status, body = tradein.bo("POST", path, {"outcome": "approved", "reward_cents": 6000, "reason": "ok"})
    assert (status, body["code"]) == (422, "INVALID_REWARD")
    status, body = tradein.bo("POST", path, {"outcome": "approved", "reward_cents": 10000, "reason": "ok"})
    assert (status, body["status"], body["reward_cents"]) == (200, "approved", 10000)


def test_an_impossible_claim_number_or_batch_id_is_404_without_a_lookup(tradein, monkeypatch):
    from pynamodb.models import Model

    from chalicelib.errors import NotFound
    from chalicelib.tradein import participant

    def refuse(*args, **kwargs):  # DynamoDB answers a key this empty or long with a ValidationException
        raise AssertionError("looked up an impossible key")

    monkeypatch.setattr(Model, "get", classmethod(refuse))
    number = "A" * 3000
    with pytest.raises(NotFound):
        participant.track_claim("  ", "1012JS")  # an empty key after trimming
    assert tradein.api("GET", f"/tradein/claims/{number}?postcode=1012JS")[0] == 404
    assert tradein.bo("POST", f"/backoffice/claims/{number}/device-received", {"received_on": "2017-09-12"})[0] == 404
    assert tradein.bo("POST", f"/backoffice/payouts/{number}/failed", {"reason": "x"})[0] == 404
