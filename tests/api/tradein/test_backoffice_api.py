"""The back office's campaign and claim routes through the client: a second campaign with its own
terms carried from registration to payout, the one-claim view, the search, roles and errors."""

from __future__ import annotations

import hashlib
import time
from urllib.parse import parse_qs, urlparse

import pytest

from tests.integration.tradein.helpers import CAMPAIGN, PDF, other_address, sent_messages

AUTUMN = "herfst-2017"
AUTUMN_TERMS = {
    "name": "herfstinruil € 250",
    "starts_at": "2017-09-01T00:00:00+02:00",
    "ends_at": "2017-09-10T23:59:59+02:00",
    "channels": ["webshop"],
    "min_line_price_cents": 100000,
    "excluded_brands": ["HP"],
    "reward_cents": 25000,
    "registration_window_days": {"first": 10, "last": 20},
    "device_deadline_day": 25,
    "device_criteria": {"min_screen_inches": 13, "max_age_years": 3},
}
# Bought 2017-09-05 (day 1): registration on days 10-20 (2017-09-14 .. 2017-09-24), the old
# laptop by day 25 (2017-09-29).
BOUGHT = "2017-09-05T12:00:00+02:00"
RECENT_DEVICE = {"purchased_on": "2016-01-10", "screen_inches": 13.3}


def _autumn_receipt(tradein, receipt_id: str, **line) -> None:
    tradein.receipt(receipt_id, purchased_at=BOUGHT, channel="webshop", **{"unit_price_cents": 129900, **line})


def _email_text(claim_number: str, subject_start: str) -> str:
    mails = [m for m in sent_messages() if claim_number in m.subject and m.subject.startswith(subject_start)]
    assert mails, [m.subject for m in sent_messages()]
    return mails[-1].body


@pytest.mark.rule("G5", "T1", "T2", "T5", "T6", "T8", "T9", "T11")
def test_a_campaign_created_through_the_api_carries_a_claim_to_payout_on_its_own_terms(tradein, travel):
    status, created = tradein.bo("PUT", f"/backoffice/campaigns/{AUTUMN}", AUTUMN_TERMS)
    assert status == 201, created
    assert created["device_criteria"]["text"].count("13 inch") == 1

    travel("2017-09-13T10:00")  # day 9: before this campaign's window
    _autumn_receipt(tradein, "R-A1")
    status, body = tradein.register("R-A1", campaign_id=AUTUMN, old_device=RECENT_DEVICE)
    assert (status, body["code"], body["details"]["opens_on"]) == (422, "OUTSIDE_REGISTRATION_WINDOW", "2017-09-14")

    travel("2017-09-14T10:00")  # day 10
    for receipt_id, line, reason in [
        ("R-CHEAP", {"unit_price_cents": 99900}, "PRICE_TOO_LOW"),  # €599 would do for the seed's campaign
        ("R-HP", {"brand": "HP"}, "BRAND_EXCLUDED"),
    ]:
        _autumn_receipt(tradein, receipt_id, **line)
        status, body = tradein.register(receipt_id, campaign_id=AUTUMN, old_device=RECENT_DEVICE)
        assert (status, body["details"]["reasons"]) == (422, [reason])
    tradein.receipt("R-STORE", purchased_at=BOUGHT, unit_price_cents=129900)
    status, body = tradein.register("R-STORE", campaign_id=AUTUMN, old_device=RECENT_DEVICE)
    assert (status, body["details"]["reasons"]) == (422, ["CHANNEL_EXCLUDED"])
    status, body = tradein.register("R-A1", campaign_id=AUTUMN)  # the default device: 3.5 years old
    assert (status, body["code"], body["details"]["reasons"]) == (422, "DEVICE_NOT_ELIGIBLE", ["TOO_OLD"])

    status, body = tradein.register("R-A1", campaign_id=AUTUMN, old_device=RECENT_DEVICE)
    assert status == 201, body
    number = body["claim_number"]
    tradein.upload(number)
    status, tracked = tradein.track(number)
    assert (tracked["status"], tracked["deadlines"]) == ("awaiting_device", {"device_by": "2017-09-29"})
    assert "29 september 2017" in _email_text(number, "Uw registratie is compleet")

    # A second claim of this campaign whose laptop never comes lapses after its own day 25.
    _autumn_receipt(tradein, "R-A2")
    status, body = tradein.register(
        "R-A2", campaign_id=AUTUMN, old_device=RECENT_DEVICE, participant={"address": other_address(1)}
    )
    late = body["claim_number"]
    tradein.upload(late)

    travel("2017-09-28T10:00")
    assert tradein.bo("POST", f"/backoffice/claims/{number}/device-received", {"received_on": "2017-09-28"})[0] == 200
    status, body = tradein.bo("POST", f"/backoffice/claims/{number}/inspection", {"outcome": "approved"})
    assert (status, body["status"], body["reward_cents"]) == (200, "approved", 25000)
    assert "€ 250,00" in _email_text(number, "Uw oude laptop is goedgekeurd")
    status, body = tradein.bo(
        "POST", f"/backoffice/claims/{late}/inspection", {"outcome": "revised", "reward_cents": 20000, "reason": "x"}
    )
    assert status == 409  # not received: the state machine, whatever the campaign

    summary = tradein.nightly("2017-09-28")
    [batch_id] = summary["payout_batches"]
    status, payouts = tradein.bo("GET", "/backoffice/payouts")
    batch = next(b for b in payouts["items"] if b["batch_id"] == batch_id)
    assert (batch["claims"], batch["total_cents"]) == ([number], 25000)

    travel("2017-09-30T10:00")
    summary = tradein.nightly("2017-09-30")
    assert summary["lapsed"] == 1 and summary["paid"] == 1
    assert "29 september 2017" in _email_text(late, "Uw inruilclaim is vervallen")
    assert "€ 250,00" in _email_text(number, "Uw vergoeding is betaald")

    status, listed = tradein.bo("GET", "/backoffice/campaigns")
    autumn = next(c for c in listed["items"] if c["campaign_id"] == AUTUMN)
    assert autumn["claims"] == {"paid": 1, "lapsed": 1}
    assert {k: autumn[k] for k in AUTUMN_TERMS if k != "device_criteria"} == {
        k: v for k, v in AUTUMN_TERMS.items() if k != "device_criteria"
    }


@pytest.mark.rule("T2")
def test_a_campaigns_window_closes_on_its_own_last_day(tradein, travel):
    tradein.bo("PUT", f"/backoffice/campaigns/{AUTUMN}", AUTUMN_TERMS)
    travel("2017-09-25T10:00")  # day 21
    _autumn_receipt(tradein, "R-A1")
    status, body = tradein.register("R-A1", campaign_id=AUTUMN, old_device=RECENT_DEVICE)
    assert (status, body["code"], body["details"]["closes_on"]) == (422, "OUTSIDE_REGISTRATION_WINDOW", "2017-09-24")


@pytest.mark.rule("G5")
def test_the_campaign_put_answers_201_200_409_422_and_400(tradein):
    path = f"/backoffice/campaigns/{AUTUMN}"
    assert tradein.bo("PUT", path, AUTUMN_TERMS)[0] == 201
    replay = tradein.bo("PUT", path, AUTUMN_TERMS)
    assert replay[0] == 200 and replay[1]["reward_cents"] == 25000
    status, body = tradein.bo("PUT", path, {**AUTUMN_TERMS, "registration_window_days": {"first": 20, "last": 10}})
    assert (status, body["code"]) == (422, "CAMPAIGN_TERMS_INVALID")
    assert body["details"]["problems"] == [{"field": "registration_window_days.last", "reason": "BEFORE_FIRST"}]
    status, body = tradein.bo("PUT", path, {**AUTUMN_TERMS, "reward_cents": -1})
    assert (status, body["code"]) == (422, "CAMPAIGN_TERMS_INVALID")
    for bad in (
        {"reward_cents": "25000"},
        {"reward_cents": 250.0},
        {"starts_at": "2017-09-01T00:00:00"},  # no offset
        {"channels": ["moon"]},
        {"colour": "red"},
        {"registration_window_days": {"first": 10, "middle": 15}},
    ):
        status, body = tradein.bo("PUT", path, {**AUTUMN_TERMS, **bad})
        assert (status, body["code"]) == (400, "INVALID_REQUEST"), bad
    status, body = tradein.api("PUT", path, tradein.auth("bo-1", "backoffice") | {}, b"{not json")
    assert (status, body["code"]) == (400, "MALFORMED_JSON")
    assert tradein.bo("PUT", "/backoffice/campaigns/Not_An_Id", {})[1]["code"] == "INVALID_CAMPAIGN_ID"

    tradein.claim_for("R-1")  # a claim of the seed's campaign
    status, body = tradein.bo("PUT", f"/backoffice/campaigns/{CAMPAIGN}", {"reward_cents": 12500})
    assert (status, body["code"], body["details"]["terms"]) == (409, "CAMPAIGN_HAS_CLAIMS", ["reward_cents"])
    assert tradein.bo("PUT", f"/backoffice/campaigns/{CAMPAIGN}", {})[0] == 200  # the same terms: a replay


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/backoffice/campaigns/x1"),
        ("GET", "/backoffice/campaigns"),
        ("GET", "/backoffice/claims?q=x"),
        ("GET", "/backoffice/claims/ABCDEFGH"),
    ],
)
def test_member_and_pos_tokens_get_403_and_no_token_401(tradein, method, path):
    body = {} if method == "PUT" else None
    for subject, groups in (("m-1", ()), ("pos-1", ("pos",))):
        status, answer = tradein.api(method, path, tradein.auth(subject, *groups), body)
        assert (status, answer["code"]) == (403, "FORBIDDEN")
    assert tradein.api(method, path, {"Content-Type": "application/json"}, body)[0] == 401


@pytest.mark.rule("T13", "T15")
def test_one_claim_for_its_handler_with_refused_proofs_masked_data_and_a_proof_link(tradein):
    number = tradein.claim_for("R-1")
    status, view = tradein.bo("GET", f"/backoffice/claims/{number.lower()}")
    assert (status, view["status"], view["proof"]) == (200, "awaiting_proof", None)

    assert tradein.upload(number, b"plain text, no proof", "bon.txt")["refused"] == 1
    tradein.upload(number, PDF)
    status, view = tradein.bo("GET", f"/backoffice/claims/{number}")
    assert view["status"] == "awaiting_device"
    steps = [(e.get("status"), e.get("event"), e.get("reason")) for e in view["timeline"] if "kind" not in e]
    assert steps == [
        ("awaiting_proof", None, None),
        (None, "proof_refused", "UNSUPPORTED_TYPE"),
        ("under_review", None, None),
        ("awaiting_device", None, None),
    ]
    emails = [e for e in view["timeline"] if "kind" in e]
    assert [(e["event"], e["kind"]) for e in emails] == [("email", "proof_refused"), ("email", "confirmation")]
    assert view["deadlines"] == {"proof_by": "2017-10-08", "device_by": "2017-10-08"}
    assert view["old_device"]["purchased_on"] == "2014-03-01" and view["old_device"]["battery_ok"] is True
    participant = view["participant"]
    assert participant["iban"] == "NL** **** **** **43 00" and participant["email"] == "j***@e***.nl"
    assert "Jansen" not in str(view) and "0612345678" not in str(view)

    proof = view["proof"]
    assert (proof["content_type"], proof["size_bytes"]) == ("application/pdf", len(PDF))
    assert proof["sha256"] == hashlib.sha256(PDF).hexdigest()
    link = urlparse(proof["url"])
    assert link.path.endswith(f"proofs/{number}/checked/bon.pdf")
    signed = parse_qs(link.query)
    if "X-Amz-Expires" in signed:
        valid_for = float(signed["X-Amz-Expires"][0])
    else:
        valid_for = int(signed["Expires"][0]) - time.time()
    assert 295 <= valid_for <= 300  # 5 minutes

    status, body = tradein.bo("GET", "/backoffice/claims/NOSUCH99")
    assert (status, body["code"]) == (404, "CLAIM_NOT_FOUND")


@pytest.mark.rule("T15")
def test_search_by_claim_number_receipt_id_or_email_exact_and_case_insensitive(tradein):
    first = tradein.claim_for("R-Search-1")
    second = tradein.claim_for("R-Search-2", participant={"address": other_address(1)})
    tradein.upload(first)

    def found(query: str) -> list[str]:
        status, body = tradein.bo("GET", f"/backoffice/claims?{query}")
        assert status == 200, body
        return sorted(item["claim_number"] for item in body["items"])

    assert found(f"q={first.lower()}") == [first]
    assert found("q=r-search-2") == [second]
    assert found("q=R-SEARCH-1") == [first]
    assert found("q=JAN.Jansen%40Example.NL") == sorted([first, second])
    assert found("q=JAN.Jansen%40Example.NL&status=awaiting_proof") == [second]
    assert found(f"q={first}&status=awaiting_proof") == []
    assert found("q=jan.jansen%40example") == []  # exact, not a prefix
    assert found("q=R-Search") == []

    by_email = "/backoffice/claims?q=jan.jansen%40example.nl&limit=1"
    status, page = tradein.bo("GET", by_email)
    assert status == 200 and len(page["items"]) == 1 and page["next_cursor"]
    status, rest = tradein.bo("GET", f"{by_email}&cursor={page['next_cursor']}")
    assert status == 200
    seen = {page["items"][0]["claim_number"], *(i["claim_number"] for i in rest["items"])}
    assert seen == {first, second}
    assert all("Jansen" not in str(i) for i in page["items"] + rest["items"])
