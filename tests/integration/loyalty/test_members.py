"""Members: welcome and consent points exactly once (L8, L9), profile edits (L13, L14), G5."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib import db
from chalicelib.errors import Conflict, Unprocessable
from chalicelib.loyalty import accounts, history_store, lot_store, member_store
from chalicelib.loyalty.rules import Address
from tests.integration.loyalty.conftest import assert_ledger_consistent


@pytest.mark.rule("L8", "L7")
def test_welcome_points_are_available_at_once_and_expire_after_a_year(member, travel):
    travel("2017-03-05T09:00")
    joined = member("m-1")
    assert joined.member.balance.available == 250
    assert joined.member.balance.pending == 0
    [lot] = lot_store.lots_of("m-1")
    assert (lot.kind, lot.status, lot.expires_on) == ("event", "available", date(2018, 3, 4))
    entries, _ = history_store.history_of("m-1", 10, None)
    assert [(e.type, e.points, e.cause) for e in entries] == [("earned", 250, "welcome")]
    assert len(joined.member.card_number) == 16 and joined.member.card_number.isdigit()


@pytest.mark.rule("L8")
def test_a_retried_sign_up_is_409_and_awards_nothing_twice(member, travel):
    travel("2017-03-05T09:00")
    member("m-1")
    with pytest.raises(Conflict) as again:
        member("m-1")
    assert again.value.code == "MEMBER_EXISTS"
    assert member_store.get_member("m-1").balance.available == 250
    assert len(lot_store.lots_of("m-1")) == 1
    assert_ledger_consistent("m-1")


@pytest.mark.rule("L9")
def test_consent_at_sign_up_gives_consent_points_once(member, travel):
    travel("2017-03-05T09:00")
    joined = member("m-1", sharing=True)
    assert joined.member.balance.available == 350
    accounts.update_profile("m-1", {"partner_data_sharing": False})
    accounts.update_profile("m-1", {"partner_data_sharing": True})
    assert member_store.get_member("m-1").balance.available == 350
    assert sorted(lot.lot_id for lot in lot_store.lots_of("m-1")) == ["marketing_consent#m-1", "welcome#m-1"]
    assert_ledger_consistent("m-1")


@pytest.mark.rule("L9")
def test_consent_later_gives_points_once_ever_even_when_toggled(member, travel):
    travel("2017-03-05T09:00")
    member("m-1")
    after = accounts.update_profile("m-1", {"partner_data_sharing": True})
    assert after.member.balance.available == 350
    for sharing in (False, True, False, True):
        accounts.update_profile("m-1", {"partner_data_sharing": sharing})
    member_now = member_store.get_member("m-1")
    assert member_now.balance.available == 350
    assert member_now.consent_awarded
    entries, _ = history_store.history_of("m-1", 50, None)
    assert sum(1 for e in entries if e.cause == "marketing_consent") == 1


@pytest.mark.rule("L9")
def test_a_replayed_consent_transaction_cannot_award_twice(member, travel):
    """Even a request that read the member before the first award committed is refused by the
    conditions (consent_awarded flag, deterministic lot id), not by the read."""
    travel("2017-03-05T09:00")
    member("m-1")
    stale = member_store.get_member("m-1")
    accounts.update_profile("m-1", {"partner_data_sharing": True})
    with pytest.raises(db.TransactionCancelled), db.transaction() as tx:
        accounts._award_consent(tx, stale, {})
    assert member_store.get_member("m-1").balance.available == 350


@pytest.mark.rule("L13")
def test_email_cannot_be_changed(member, travel):
    travel("2017-03-05T09:00")
    member("m-1")
    with pytest.raises(Unprocessable) as refused:
        accounts.update_profile("m-1", {"email": "new@example.com", "first_name": "X"})
    assert refused.value.code == "EMAIL_IMMUTABLE"
    assert member_store.get_member("m-1").email == "m-1@example.com"
    assert member_store.get_member("m-1").first_name == "Ann"


@pytest.mark.rule("L14")
def test_member_changes_name_address_newsletter(member, travel):
    travel("2017-03-05T09:00")
    member("m-1")
    address = {
        "street": "Kerkstraat",
        "house_number": 12,
        "house_number_suffix": "A",
        "postcode": "1017 GM",
        "city": "Amsterdam",
        "country": "NL",
    }
    changed = accounts.update_profile(
        "m-1", {"first_name": "Anna", "last_name": "de Vries", "address": address, "newsletter": False}
    )
    assert changed.member.first_name == "Anna"
    assert changed.member.last_name == "de Vries"
    assert changed.member.address == Address(**address)
    assert changed.member.newsletter is False
    cleared = accounts.update_profile("m-1", {"address": None})
    assert cleared.member.address is None


@pytest.mark.rule("G5", "L8", "L9")
def test_welcome_and_consent_points_come_from_configuration(member, travel, monkeypatch):
    monkeypatch.setenv("WELCOME_POINTS", "400")
    monkeypatch.setenv("CONSENT_POINTS", "150")
    monkeypatch.setenv("EVENT_POINTS_VALIDITY_YEARS", "2")
    travel("2017-03-05T09:00")
    joined = member("m-1", sharing=True)
    assert joined.member.balance.available == 550
    assert {lot.expires_on for lot in lot_store.lots_of("m-1")} == {date(2019, 3, 4)}


@pytest.mark.rule("L12")
def test_a_full_last_page_has_no_cursor_and_cursors_resume_after_the_last_item(member, travel):
    travel("2017-08-10T12:00")
    member("m-1", sharing=True)  # welcome + consent: two entries
    one, cursor = accounts.history("m-1", 1, None)
    assert cursor == {"member_id": {"S": "m-1"}, "entry_id": {"S": one[0].entry_id}, "at_key": cursor["at_key"]}
    two, after = accounts.history("m-1", 1, cursor)
    assert sorted(e.cause for e in one + two) == ["marketing_consent", "welcome"]  # each once
    assert after is None  # DynamoDB would hand out a key for this full page; the contract says null
    assert accounts.history("m-1", 2, None)[1] is None


def test_page_helper_builds_the_key_of_the_last_item_only_when_more_follow():
    from types import SimpleNamespace

    rows = [SimpleNamespace(member_id="m-1", entry_id=f"e{i}", at_key=f"k{i}") for i in range(3)]
    assert history_store.one_page(rows[:2], 2, ("member_id", "entry_id", "at_key")) == (rows[:2], None)
    page, key = history_store.one_page(rows, 2, ("member_id", "entry_id", "at_key"))
    assert (page, key) == (rows[:2], {"member_id": {"S": "m-1"}, "entry_id": {"S": "e1"}, "at_key": {"S": "k1"}})
