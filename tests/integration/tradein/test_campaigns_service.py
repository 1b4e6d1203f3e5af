"""Campaigns as data (G5): the PUT's service with the seed's defaults, validation, replays,
conditional writes, `CAMPAIGN_HAS_CLAIMS`, and the claim counters per campaign and status."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from chalicelib import clock
from chalicelib.errors import AppError
from chalicelib.tradein import campaigns, counts, store
from tests.integration.tradein.helpers import CAMPAIGN, JPEG, PDF

AMS = clock.AMSTERDAM


def _code(call) -> tuple[str, dict]:
    with pytest.raises(AppError) as caught:
        call()
    return caught.value.code, caught.value.details


@pytest.mark.rule("G5", "T1", "T2", "T5", "T8")
def test_every_term_left_out_takes_the_seed_campaigns_value(aws, travel):
    travel("2017-07-01T10:00")
    answer, created = campaigns.put_campaign("summer", {"reward_cents": 5000}, clock.now())
    assert created
    campaign = store.get_campaign("summer")
    assert campaign.starts_at == datetime(2017, 8, 7, 0, 1, tzinfo=AMS)
    assert campaign.ends_at == datetime(2017, 8, 27, 23, 59, 59, tzinfo=AMS)
    assert (campaign.channels, campaign.min_line_price_cents, campaign.excluded_brands) == (
        ("store", "webshop"),
        59900,
        ("Apple",),
    )
    assert (campaign.window_first_day, campaign.window_last_day, campaign.device_last_day) == (30, 60, 60)
    assert (campaign.min_screen_inches, campaign.max_device_age_years, campaign.reward_cents) == (10.0, 6, 5000)
    assert answer["device_criteria"]["text"] == campaigns.seed_campaign().device_criteria
    assert answer["name"] == "meer laptop €100,- inruil"


@pytest.mark.rule("G5")
def test_a_replay_answers_the_same_and_a_new_body_updates(aws):
    now = clock.now()
    first, created = campaigns.put_campaign("x1", {"excluded_brands": ["HP"]}, now)
    again, created_again = campaigns.put_campaign("x1", {"excluded_brands": ["HP"]}, now)
    assert (created, created_again, again) == (True, False, first)
    changed, created = campaigns.put_campaign("x1", {"excluded_brands": ["HP", "Acer"]}, now)
    assert not created and changed["excluded_brands"] == ["HP", "Acer"]
    # A PUT replaces the terms: what it leaves out is the seed's value again.
    campaigns.put_campaign("x1", {}, now)
    assert store.get_campaign("x1").excluded_brands == ("Apple",)


@pytest.mark.rule("G5")
@pytest.mark.parametrize(
    ("terms", "field"),
    [
        ({"starts_at": datetime(2017, 9, 1, tzinfo=AMS), "ends_at": datetime(2017, 8, 1, tzinfo=AMS)}, "ends_at"),
        ({"registration_window_days": {"first": 40, "last": 39}}, "registration_window_days.last"),
        ({"registration_window_days": {"first": 0}}, "registration_window_days.first"),
        ({"reward_cents": -100}, "reward_cents"),
        ({"reward_cents": 0}, "reward_cents"),
        ({"min_line_price_cents": -1}, "min_line_price_cents"),
        ({"device_deadline_day": 59}, "device_deadline_day"),
        ({"channels": []}, "channels"),
        ({"device_criteria": {"max_age_years": 0}}, "device_criteria.max_age_years"),
    ],
)
def test_terms_a_campaign_cannot_run_with_are_refused(aws, terms, field):
    code, details = _code(lambda: campaigns.put_campaign("bad", terms, clock.now()))
    assert code == "CAMPAIGN_TERMS_INVALID"
    assert field in [p["field"] for p in details["problems"]]
    assert store.get_campaign("bad") is None


def test_a_campaign_id_out_of_format_is_a_bad_request(aws):
    for campaign_id in ("A", "Has Space", "x#y", "-lead", "a" * 65):
        assert _code(lambda cid=campaign_id: campaigns.put_campaign(cid, {}, clock.now()))[0] == "INVALID_CAMPAIGN_ID"


@pytest.mark.rule("G5")
def test_a_write_on_a_stale_version_never_overwrites_the_newer_one(aws):
    now = clock.now()
    campaigns.put_campaign("race", {"reward_cents": 5000}, now)
    stale = campaigns._read("race")
    campaigns.put_campaign("race", {"reward_cents": 6000}, now)  # the other PUT wins
    with pytest.raises(campaigns._Taken):
        campaigns._write(campaigns.build("race", {"reward_cents": 7000}), stale[1], guard_claims=False)
    assert store.get_campaign("race").reward_cents == 6000
    with pytest.raises(campaigns._Taken):  # creating over an existing campaign is a lost race too
        campaigns._write(campaigns.build("race", {}), None, guard_claims=False)


@pytest.mark.rule("G5", "T1", "T9")
def test_terms_claims_rely_on_cannot_change_once_claims_exist_but_an_early_end_can(tradein, travel):
    number = tradein.claim_for("R-1")
    now = clock.now()
    for terms, term in [
        ({"reward_cents": 15000}, "reward_cents"),
        ({"registration_window_days": {"first": 20}}, "window_first_day"),
        ({"device_deadline_day": 70}, "device_last_day"),
        ({"min_line_price_cents": 49900}, "min_line_price_cents"),
        ({"excluded_brands": []}, "excluded_brands"),
        ({"channels": ["store"]}, "channels"),
        ({"ends_at": datetime(2017, 8, 20, 23, 59, 59, tzinfo=AMS)}, "ends_at"),  # into the past
    ]:
        code, details = _code(lambda t=terms: campaigns.put_campaign(CAMPAIGN, t, now))
        assert (code, details["terms"], details["claims"]) == ("CAMPAIGN_HAS_CLAIMS", [term], 1)
    assert store.get_campaign(CAMPAIGN).reward_cents == 10000
    # The name and the text are not relied on; an end not before now is an early end (art. 17).
    early_end = {"name": "meer laptop (ingekort)", "ends_at": now + timedelta(hours=1)}
    assert campaigns.put_campaign(CAMPAIGN, early_end, now)[1] is False
    assert store.get_campaign(CAMPAIGN).name == "meer laptop (ingekort)"
    assert store.get_claim(number).status == "awaiting_proof"


@pytest.mark.rule("G5")
def test_claim_counts_follow_every_status_change_without_reading_claims(tradein, travel):
    first = tradein.claim_for("R-1")
    second = tradein.claim_for("R-2", participant={"address": {**_address(2)}})
    assert counts.counts([CAMPAIGN]) == {CAMPAIGN: {"awaiting_proof": 2}}
    tradein.upload(first, JPEG, "bon.jpg")
    tradein.upload(second, b"not a proof", "bon.txt")  # refused: the status stays, so the count does
    assert counts.counts([CAMPAIGN]) == {CAMPAIGN: {"awaiting_device": 1, "awaiting_proof": 1}}
    tradein.upload(second, PDF)
    status, body = tradein.bo("POST", f"/backoffice/claims/{first}/device-received", {"received_on": "2017-09-12"})
    assert status == 200, body
    tradein.bo("POST", f"/backoffice/claims/{first}/inspection", {"outcome": "approved"})
    tradein.nightly("2017-09-12")  # the payout batch moves the claim in the batch's own transaction
    assert counts.counts([CAMPAIGN]) == {CAMPAIGN: {"awaiting_device": 1, "payout_scheduled": 1}}
    assert counts.total(CAMPAIGN) == 2
    tradein.nightly("2017-09-13")
    assert counts.counts([CAMPAIGN])[CAMPAIGN] == {"awaiting_device": 1, "paid": 1}


def _address(n: int) -> dict:
    from tests.integration.tradein.helpers import other_address

    return other_address(n)


@pytest.mark.rule("G5")
def test_seeding_goes_through_the_put_replays_and_the_demo_period_follows_today(aws):
    today = date(2024, 5, 1)
    first = campaigns.seed_campaigns(today)
    assert campaigns.seed_campaigns(today) == first == ["meer-laptop-2017", "demo-20240501"]
    demo = store.get_campaign(first[1])
    assert demo.starts_at.date() == today - timedelta(days=60)
    assert demo.ends_at.date() == today - timedelta(days=20)
    assert (demo.reward_cents, demo.min_line_price_cents, demo.excluded_brands) == (10000, 59900, ("Apple",))
    assert store.get_campaign(first[0]) == campaigns.seed_campaign()
