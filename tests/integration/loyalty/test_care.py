"""Customer care: members found by e-mail or card (L13's look-up) and points adjusted by hand
(L7, L10, L12), replay-safe."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib import flows
from chalicelib.errors import BadRequest, Conflict, Gone, NotFound, Unprocessable
from chalicelib.loyalty import accounts, care, history_store, lot_store, member_store
from tests.integration.loyalty.conftest import assert_ledger_consistent
from tests.nights import loyalty_night


@pytest.mark.rule("L13")
def test_members_are_found_by_exact_e_mail_whatever_its_case_or_by_card(member, travel):
    travel("2017-08-10T14:00")
    member("m-1")
    member("m-2")
    found = care.find_members("  M-1@Example.COM ", None)
    assert [p.member.member_id for p in found] == ["m-1"]
    assert found[0].member.balance.available == 250
    assert care.find_members("m-1@example.co", None) == []  # exact, not a prefix
    card = member_store.get_member("m-2").card_number
    assert [p.member.member_id for p in care.find_members(None, card)] == ["m-2"]
    assert care.find_members(None, "0000") == []
    for both_or_neither in ((None, None), ("m-1@example.com", card)):
        with pytest.raises(BadRequest):
            care.find_members(*both_or_neither)


@pytest.mark.rule("L13")
def test_a_merged_account_is_not_listed_any_more(member, travel, monkeypatch):
    monkeypatch.setattr("chalicelib.coupons.service.transfer_coupons", lambda s, t: [])
    travel("2017-08-10T14:00")
    member("m-1")
    accounts.join("m-2", "M-1@example.com", "Ann", "Smit", None, False, False)  # the same person again
    assert [p.member.member_id for p in care.find_members("m-1@example.com", None)] == ["m-1", "m-2"]
    flows.merge("m-2", "m-1")
    assert [p.member.member_id for p in care.find_members("m-1@example.com", None)] == ["m-2"]


@pytest.mark.rule("L7", "L12")
def test_a_positive_adjustment_is_event_points_available_at_once_valid_one_year(member, travel):
    travel("2017-08-10T14:00")
    member("m-1")
    done, created = care.adjust_points("m-1", "adj-1", 75, "Goodwill: late delivery")
    assert created and (done.points, done.reason) == (75, "Goodwill: late delivery")
    assert member_store.get_member("m-1").balance.available == 325
    lot = lot_store.get_lot("m-1", "adjustment#adj-1")
    assert (lot.kind, lot.status, lot.expires_on) == ("event", "available", date(2018, 8, 9))
    [entry] = [e for e in history_store.history_of("m-1", 10, None)[0] if e.type == "adjusted"]
    assert (entry.points, entry.cause) == (75, "adjustment:adj-1")
    assert history_store.get_entry("m-1", "adjusted#adj-1")[1] == "Goodwill: late delivery"
    assert_ledger_consistent("m-1")
    # L7: gone the day after its last valid day
    assert loyalty_night(date(2018, 8, 10))["points_expired"] == 325


@pytest.mark.rule("L12")
def test_an_adjustment_replays_to_the_same_result_and_another_body_conflicts(member, travel):
    travel("2017-08-10T14:00")
    member("m-1")
    first, _ = care.adjust_points("m-1", "adj-1", 75, "Goodwill")
    again, created = care.adjust_points("m-1", "adj-1", 75, "Goodwill")
    assert not created and again == first
    assert member_store.get_member("m-1").balance.available == 325
    for other in ((76, "Goodwill"), (75, "Other reason")):
        with pytest.raises(Conflict) as conflict:
            care.adjust_points("m-1", "adj-1", *other)
        assert conflict.value.code == "ADJUSTMENT_CONFLICT"
    assert_ledger_consistent("m-1")


@pytest.mark.rule("L10", "L12")
def test_a_negative_adjustment_takes_the_soonest_expiring_points_first(member, buy, travel):
    travel("2017-08-10T14:00")
    member("m-1")  # welcome 250, expires 2018-08-09
    buy("R1", "m-1", price=50_000, when="2017-07-01T10:00")
    loyalty_night(date(2017, 8, 10))  # R1's 500 base points, expire 2019-06-30
    done, created = care.adjust_points("m-1", "adj-neg", -300, "Points given twice by mistake")
    assert created and done.points == -300
    assert lot_store.get_lot("m-1", "welcome#m-1").remaining == 0
    assert lot_store.get_lot("m-1", "receipt#R1").remaining == 450
    assert member_store.get_member("m-1").balance.available == 450
    assert_ledger_consistent("m-1")
    with pytest.raises(Unprocessable) as short:
        care.adjust_points("m-1", "adj-too-much", -451, "More than there is")
    assert short.value.code == "INSUFFICIENT_POINTS"
    assert member_store.get_member("m-1").balance.available == 450


@pytest.mark.rule("L13")
def test_adjustment_refusals(member, travel, monkeypatch):
    monkeypatch.setattr("chalicelib.coupons.service.transfer_coupons", lambda s, t: [])
    travel("2017-08-10T14:00")
    with pytest.raises(NotFound):
        care.adjust_points("m-nobody", "adj-1", 10, "x")
    with pytest.raises(BadRequest):
        care.adjust_points("m-nobody", "adj-1", 0, "x")
    member("m-1")
    member("m-2")
    flows.merge("m-2", "m-1")
    with pytest.raises(Gone):
        care.adjust_points("m-1", "adj-1", 10, "x")
