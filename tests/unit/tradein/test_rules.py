"""Pure trade-in rules: day counting, eligibility, deadlines, rewards and the claim state machine."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.clock import AMSTERDAM
from chalicelib.sales import Line, Receipt
from chalicelib.tradein import eligibility, rules
from chalicelib.tradein.workdays import is_working_day
from tests.factories import claim_policy

CAMPAIGN = rules.Campaign(
    "c",
    "test",
    datetime(2017, 8, 7, 0, 1, tzinfo=AMSTERDAM),
    datetime(2017, 8, 27, 23, 59, 59, tzinfo=AMSTERDAM),
)
POLICY = claim_policy()
ADDRESS = rules.Address("Damstraat", 12, "1012 JS", "Amsterdam", "NL", "a")
PARTICIPANT = rules.Participant(
    "Jan", "Jansen", "jan@example.nl", "0612345678", date(1980, 5, 17), ADDRESS, "NL91ABNA0417164300", "J. Jansen"
)
DEVICE = rules.OldDevice("Dell", "XPS", 13.3, date(2014, 1, 1), True, True, True, True, True)
LAPTOP = Line("1", "LT", "Laptop", "Lenovo", "laptop", "product", "retailer", 59900, 1)
TODAY = date(2017, 9, 12)


def receipt(**changes) -> Receipt:
    line = replace(LAPTOP, **{k: v for k, v in changes.items() if k in LAPTOP.__dataclass_fields__})
    base = Receipt("R", "store", datetime(2017, 8, 10, 14, 0, tzinfo=AMSTERDAM), (line,), store_id="NL-1")
    return replace(base, **{k: v for k, v in changes.items() if k in Receipt.__dataclass_fields__ and k != "lines"})


# --- G2 / T2 -------------------------------------------------------------------------------------


@pytest.mark.rule("G2", "T2")
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)), st.integers(min_value=1, max_value=400))
@settings(max_examples=200)
def test_day_n_is_purchase_date_plus_n_minus_one(purchase, n):
    assert rules.nth_day(purchase, n) == purchase + timedelta(days=n - 1)
    assert rules.day_number(purchase, rules.nth_day(purchase, n)) == n
    assert rules.day_number(purchase, purchase) == 1


@pytest.mark.rule("T2")
def test_registration_window_edges():
    purchase = date(2017, 8, 10)
    assert rules.registration_window(purchase, CAMPAIGN) == (date(2017, 9, 8), date(2017, 10, 8))
    assert eligibility.check_registration_window(purchase, date(2017, 9, 7), CAMPAIGN).details["day"] == 29
    assert eligibility.check_registration_window(purchase, date(2017, 9, 8), CAMPAIGN) is None
    assert eligibility.check_registration_window(purchase, date(2017, 10, 8), CAMPAIGN) is None
    refusal = eligibility.check_registration_window(purchase, date(2017, 10, 9), CAMPAIGN)
    assert (refusal.code, refusal.details["day"]) == ("OUTSIDE_REGISTRATION_WINDOW", 61)


# --- T1 ------------------------------------------------------------------------------------------


@pytest.mark.rule("T1")
def test_a_qualifying_purchase_passes():
    assert eligibility.check_purchase(receipt(), "1", CAMPAIGN) is None
    assert eligibility.check_purchase(receipt(channel="webshop", store_id=None), "1", CAMPAIGN) is None


@pytest.mark.rule("T1")
@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"purchased_at": datetime(2017, 8, 7, 0, 0, tzinfo=AMSTERDAM)}, "OUTSIDE_CAMPAIGN_PERIOD"),
        ({"purchased_at": datetime(2017, 8, 28, 0, 0, tzinfo=AMSTERDAM)}, "OUTSIDE_CAMPAIGN_PERIOD"),
        ({"channel": "phone_subscriptions"}, "CHANNEL_EXCLUDED"),
        ({"unit_price_cents": 59899}, "PRICE_TOO_LOW"),
        ({"brand": " apple "}, "BRAND_EXCLUDED"),
        ({"kind": "service"}, "NOT_A_LAPTOP"),
        ({"returned": {"1": 1}}, "RETURNED"),
    ],
)
def test_purchase_refusals_name_the_reason(changes, reason):
    refusal = eligibility.check_purchase(receipt(**changes), "1", CAMPAIGN)
    assert refusal.code == "PURCHASE_NOT_ELIGIBLE"
    assert reason in refusal.details["reasons"]


@pytest.mark.rule("T1")
def test_the_period_edges_are_inclusive_and_an_unknown_line_is_refused():
    assert eligibility.check_purchase(receipt(purchased_at=CAMPAIGN.starts_at), "1", CAMPAIGN) is None
    assert eligibility.check_purchase(receipt(purchased_at=CAMPAIGN.ends_at), "1", CAMPAIGN) is None
    assert eligibility.check_purchase(receipt(), "2", CAMPAIGN).details["reasons"] == ["LINE_NOT_FOUND"]
    limited = replace(CAMPAIGN, store_ids=("NL-2",))
    assert eligibility.check_purchase(receipt(), "1", limited).details["reasons"] == ["STORE_EXCLUDED"]


# --- T3 ------------------------------------------------------------------------------------------


@pytest.mark.rule("T3")
def test_address_key_is_normalised_and_scoped_to_the_campaign():
    key = eligibility.address_key("c", ADDRESS)
    assert key == "address#c#1012JS#12#A"
    assert eligibility.address_key("c", replace(ADDRESS, postcode=" 1012js ", house_number_suffix="-A")) == key
    assert eligibility.address_key("c", replace(ADDRESS, house_number_suffix=None)) != key
    assert eligibility.address_key("other", ADDRESS) != key
    assert eligibility.purchase_key("R", "1") == "purchase#R#1"


# --- T4 ------------------------------------------------------------------------------------------


@pytest.mark.rule("T4")
def test_the_sixteenth_birthday_must_be_before_the_registration_date():
    assert eligibility.check_participant(replace(PARTICIPANT, birth_date=date(2001, 9, 11)), TODAY, POLICY) is None
    refusal = eligibility.check_participant(replace(PARTICIPANT, birth_date=date(2001, 9, 12)), TODAY, POLICY)
    assert refusal.details["problems"] == [{"field": "participant.birth_date", "reason": "TOO_YOUNG"}]
    assert eligibility.sixteenth_birthday(date(2000, 2, 29)) == date(2016, 2, 29)
    assert eligibility.sixteenth_birthday(date(2004, 2, 29)) == date(2020, 2, 29)
    assert eligibility.sixteenth_birthday(date(2084, 2, 29)) == date(2100, 3, 1)  # 2100 is no leap year


@pytest.mark.rule("T4")
@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"email": "a@MICROSOFT.com"}, "EMPLOYEE_DOMAIN"),
        ({"email": "a@nl.mediamarkt.nl"}, "EMPLOYEE_DOMAIN"),
        ({"email": "no-at-sign"}, "INVALID_EMAIL"),
        ({"iban": "NL91ABNA0417164301"}, "INVALID_IBAN"),
        ({"address": replace(ADDRESS, postcode="1234 SS")}, "INVALID_POSTCODE"),
        ({"address": replace(ADDRESS, country="DE")}, "NOT_NETHERLANDS"),
        ({"first_name": "  "}, "EMPTY"),
    ],
)
def test_participant_refusals(changes, reason):
    refusal = eligibility.check_participant(replace(PARTICIPANT, **changes), TODAY, POLICY)
    assert refusal.code == "PARTICIPANT_NOT_ELIGIBLE"
    assert reason in [p["reason"] for p in refusal.details["problems"]]


@pytest.mark.rule("T4")
def test_employee_domains_are_policy_and_declarations_are_all_required():
    custom = claim_policy(employee_email_domains=["example.nl"])
    assert (
        eligibility.check_participant(PARTICIPANT, TODAY, custom).details["problems"][0]["reason"] == "EMPLOYEE_DOMAIN"
    )
    assert eligibility.check_participant(replace(PARTICIPANT, email="a@notmicrosoft.com"), TODAY, POLICY) is None
    assert eligibility.check_declarations(rules.Declarations(True, True, True, True)) is None
    refusal = eligibility.check_declarations(rules.Declarations(True, False, True, False))
    assert (refusal.code, refusal.details["missing"]) == ("DECLARATION_MISSING", ["data_removed", "private_person"])


@pytest.mark.rule("T4", "T7")
def test_missing_bank_details_are_allowed_at_registration_but_listed():
    without = replace(PARTICIPANT, iban=None, account_holder=None)
    assert eligibility.check_participant(without, TODAY, POLICY) is None
    assert eligibility.missing_bank_details(without) == ["iban", "account_holder"]
    assert eligibility.missing_bank_details(PARTICIPANT) == []


# --- T5 ------------------------------------------------------------------------------------------


@pytest.mark.rule("T5")
def test_old_laptop_criteria():
    assert eligibility.check_device(DEVICE, TODAY, CAMPAIGN) is None
    assert eligibility.check_device(replace(DEVICE, screen_inches=10.0), TODAY, CAMPAIGN) is None
    assert eligibility.check_device(replace(DEVICE, purchased_on=date(2011, 9, 12)), TODAY, CAMPAIGN) is None
    old = eligibility.check_device(replace(DEVICE, purchased_on=date(2011, 9, 11)), TODAY, CAMPAIGN)
    assert old.details["reasons"] == ["TOO_OLD"]
    broken = replace(DEVICE, working=False, battery_ok=False, screen_inches=9.9, purchased_on=date(2018, 1, 1))
    refusal = eligibility.check_device(broken, TODAY, CAMPAIGN)
    assert refusal.code == "DEVICE_NOT_ELIGIBLE"
    assert refusal.details["reasons"] == ["WORKING", "BATTERY_OK", "SCREEN_TOO_SMALL", "PURCHASE_DATE_IN_FUTURE"]


# --- T7, T8, T10, T11 ----------------------------------------------------------------------------


@pytest.mark.rule("T7")
def test_seven_working_days_to_complete_skip_weekends_and_holidays():
    assert rules.complete_by(date(2017, 9, 12), POLICY) == date(2017, 9, 21)
    assert rules.complete_by(date(2017, 12, 22), POLICY) == date(2018, 1, 5)  # 25, 26 Dec and 1 Jan are holidays


@pytest.mark.rule("T8")
def test_the_laptop_must_arrive_by_day_60():
    device_by = rules.device_deadline(date(2017, 8, 10), CAMPAIGN)
    assert device_by == date(2017, 10, 8)
    assert not rules.is_late_arrival(device_by, device_by)
    assert rules.is_late_arrival(device_by + timedelta(days=1), device_by)
    assert not rules.is_past(device_by, device_by) and rules.is_past(device_by, device_by + timedelta(days=1))


@pytest.mark.rule("T10")
def test_fourteen_working_days_to_ask_the_laptop_back():
    assert rules.return_request_by(date(2017, 9, 18), POLICY) == date(2017, 10, 6)
    assert rules.return_request_by(date(2018, 4, 20), POLICY) == date(2018, 5, 14)  # King's Day, Ascension Day


@pytest.mark.rule("T9")
def test_inspection_rewards():
    assert rules.inspection_reward("approved", None, CAMPAIGN) == 10000
    assert rules.inspection_reward("rejected", None, CAMPAIGN) == 0
    assert rules.inspection_reward("revised", 6000, CAMPAIGN) == 6000
    # reward_cents is optional (API.md); when sent with approved or rejected it must match.
    assert rules.inspection_reward("approved", 10000, CAMPAIGN) == 10000
    assert rules.inspection_reward("rejected", 0, CAMPAIGN) == 0
    assert rules.inspection_reward("approved", 6000, CAMPAIGN).code == "INVALID_REWARD"
    assert rules.inspection_reward("rejected", 100, CAMPAIGN).code == "INVALID_REWARD"
    for bad in (None, 0, 10000, 12000):
        assert rules.inspection_reward("revised", bad, CAMPAIGN).code == "INVALID_REWARD"


@pytest.mark.rule("T11")
@given(st.dates(min_value=date(2017, 1, 1), max_value=date(2030, 12, 31)))
@settings(max_examples=200)
def test_payment_is_on_the_next_working_day_well_within_30_days(today):
    execution = rules.payout_execution_date(today)
    assert execution > today and is_working_day(execution)
    assert execution <= rules.payout_latest_date(today, POLICY)


@pytest.mark.rule("T11")
@given(st.dates(min_value=date(2017, 1, 1), max_value=date(2030, 12, 31)), st.integers(0, 40))
@settings(max_examples=200)
def test_a_late_first_run_still_dates_the_batch_within_30_days_when_it_can(notified_on, delay):
    today = notified_on + timedelta(days=delay)
    latest = rules.payout_latest_date(notified_on, POLICY)
    execution = rules.payout_execution_date(today, latest)
    assert execution >= today
    assert execution <= max(today, latest)
    if rules.payout_execution_date(today) <= latest:
        assert execution == rules.payout_execution_date(today)  # the next working day when it fits


# --- T14 -----------------------------------------------------------------------------------------


@pytest.mark.rule("T14")
def test_the_postcode_matches_however_it_is_written():
    claim = _claim()
    assert rules.postcode_matches(claim, "1012js")
    assert rules.postcode_matches(claim, " 1012 JS ")
    assert not rules.postcode_matches(claim, "1012 JT")


def _claim(**changes) -> rules.Claim:
    base = rules.Claim(
        "ABCD2345",
        "c",
        "R",
        "1",
        "awaiting_proof",
        1,
        datetime(2017, 9, 12, 10, tzinfo=AMSTERDAM),
        date(2017, 8, 10),
        PARTICIPANT,
        DEVICE,
        "127.0.0.1",
        date(2017, 10, 8),
        date(2017, 10, 8),
    )
    return replace(base, **changes)


def test_deadlines_and_due_dates_follow_the_status():
    assert rules.deadlines(_claim()) == {"proof_by": "2017-10-08", "device_by": "2017-10-08"}
    incomplete = _claim(status="incomplete", complete_by=date(2017, 9, 21))
    assert rules.deadlines(incomplete) == {"complete_by": "2017-09-21", "device_by": "2017-10-08"}
    assert rules.due_on(incomplete, TODAY) == date(2017, 9, 21)
    assert rules.due_on(_claim(status="under_review"), TODAY) == TODAY
    assert rules.due_on(_claim(status="approved", success_notified_on=TODAY), date(2017, 9, 20)) == TODAY
    assert rules.due_on(_claim(status="paid"), TODAY) is None


# --- the state machine ---------------------------------------------------------------------------


@pytest.mark.rule("T6", "T9", "T12", "T13")
def test_the_state_machine_allows_only_its_transitions():
    assert set(rules.TRANSITIONS) == set(rules.STATUSES) and len(rules.STATUSES) == 14
    assert all(targets <= set(rules.STATUSES) for targets in rules.TRANSITIONS.values())
    for status in ("paid", "void", "disqualified", "return_requested"):
        assert rules.TRANSITIONS[status] == frozenset()
    assert rules.can_transition("awaiting_proof", "under_review")
    assert rules.can_transition("under_review", "awaiting_device")
    assert rules.can_transition("device_received", "revised")
    assert not rules.can_transition("awaiting_proof", "approved")
    assert not rules.can_transition("paid", "void")
    assert not rules.can_transition("payout_scheduled", "void")
    with pytest.raises(rules.IllegalTransition):
        rules.check_transition("disqualified", "approved")
    assert "payout_scheduled" not in rules.VOIDABLE and "awaiting_device" in rules.VOIDABLE


def test_every_status_is_reachable_from_registration():
    seen, todo = {"awaiting_proof"}, ["awaiting_proof"]
    while todo:
        for target in rules.TRANSITIONS[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    assert seen == set(rules.STATUSES)


@pytest.mark.rule("T4")
@pytest.mark.parametrize("country", ["NL", "nl", "NLD", "Nederland", "the Netherlands"])
def test_the_netherlands_may_be_written_out(country):
    participant = replace(PARTICIPANT, address=replace(ADDRESS, country=country))
    assert eligibility.check_participant(participant, TODAY, POLICY) is None


# --- what the participant sees (API.md tracking) ----------------------------------------------


@pytest.mark.rule("T2", "T7", "T8", "T10", "T14")
@pytest.mark.parametrize(
    ("changes", "today", "step"),
    [
        ({}, date(2017, 10, 8), "upload_proof"),  # the window's last day
        ({}, date(2017, 10, 9), "none"),
        ({"status": "under_review"}, TODAY, "wait"),
        ({"status": "incomplete", "complete_by": date(2017, 9, 21)}, date(2017, 9, 21), "complete_details"),
        ({"status": "incomplete", "complete_by": date(2017, 9, 21)}, date(2017, 9, 22), "none"),
        ({"status": "awaiting_device"}, date(2017, 10, 8), "send_device"),
        ({"status": "awaiting_device"}, date(2017, 10, 9), "none"),
        ({"status": "device_received"}, TODAY, "wait"),
        ({"status": "approved"}, TODAY, "wait"),
        ({"status": "revised"}, TODAY, "wait"),
        ({"status": "payout_scheduled"}, TODAY, "wait"),
        ({"status": "rejected", "return_request_by": date(2017, 10, 2)}, date(2017, 10, 2), "request_return"),
        ({"status": "rejected", "return_request_by": date(2017, 10, 2)}, date(2017, 10, 3), "none"),
        ({"status": "return_requested"}, TODAY, "none"),
        ({"status": "paid"}, TODAY, "none"),
        ({"status": "lapsed"}, TODAY, "none"),
        ({"status": "void"}, TODAY, "none"),
        ({"status": "disqualified"}, TODAY, "none"),
    ],
)
def test_next_step_follows_status_and_deadlines(changes, today, step):
    assert rules.next_step(_claim(**changes), today) == step


@pytest.mark.rule("T14", "T15")
def test_the_tracking_key_needs_number_and_postcode_and_hides_the_postcode():
    key = rules.tracking_key("ABCD2345", "1012 JS")
    assert key == rules.tracking_key(" abcd2345 ", "1012js")
    assert key != rules.tracking_key("ABCD2345", "1012 JT")
    assert key != rules.tracking_key("ABCD2346", "1012 JS")
    assert "1012" not in key and key.startswith("track#")


@pytest.mark.rule("T13")
def test_a_proof_is_refused_when_empty_too_large_or_not_a_pdf_or_image():
    assert rules.proof_refusal(0, None, 100) == "EMPTY"
    assert rules.proof_refusal(101, "application/pdf", 100) == "TOO_LARGE"
    assert rules.proof_refusal(50, "application/x-msdownload", 100) == "UNSUPPORTED_TYPE"
    assert rules.proof_refusal(50, None, 100) == "UNSUPPORTED_TYPE"
    assert all(rules.proof_refusal(100, t, 100) is None for t in ("application/pdf", "image/jpeg", "image/png"))
