"""Receipts: earning (L1-L4), pending until maturation (L6), registration by hand (L5)."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib import db
from chalicelib.errors import Conflict, NotFound, Unprocessable
from chalicelib.loyalty import earning, history_store, lot_store, member_store, receipt_store
from tests.integration.loyalty.conftest import assert_ledger_consistent, make_line, make_receipt
from tests.nights import loyalty_night


@pytest.mark.rule("L1", "L2", "L4", "L6")
def test_a_member_receipt_adds_pending_points_automatically(member, buy, travel):
    travel("2017-08-10T14:00")
    member("m-1")
    lines = (make_line("1", 59_999), make_line("2", 4_999, kind="insurance"), make_line("3", 10_050, seller="external"))
    result = buy("R1", "m-1", lines=lines)
    assert (result.member_id, result.points, result.matures_on) == ("m-1", 599, date(2017, 9, 9))
    balance = member_store.get_member("m-1").balance
    assert (balance.pending, balance.available) == (599, 250)
    lot = lot_store.get_lot("m-1", "receipt#R1")
    assert (lot.kind, lot.status, lot.expires_on) == ("base", "pending", date(2019, 8, 9))
    assert_ledger_consistent("m-1")


@pytest.mark.rule("L4")
def test_a_scanned_card_finds_the_member(member, travel):
    travel("2017-08-10T14:00")
    card = member("m-1").member.card_number
    result, created = earning.record_receipt(make_receipt("R1"), card, {"card": card})
    assert created and result.member_id == "m-1" and result.points == 100
    with pytest.raises(Unprocessable) as unknown:
        earning.record_receipt(make_receipt("R2"), "0000000000000000", {"card": "0"})
    assert unknown.value.code == "MEMBER_NOT_FOUND"


@pytest.mark.rule("L3")
def test_an_outlet_receipt_is_kept_but_earns_nothing(member, buy, travel):
    travel("2017-08-10T14:00")
    member("m-1")
    assert buy("R1", "m-1", channel="outlet", price=90_000).points == 0
    assert lot_store.get_lot("m-1", "receipt#R1") is None
    assert member_store.get_member("m-1").balance.pending == 0


def test_identical_replay_answers_the_same_and_other_payload_conflicts(member, travel):
    travel("2017-08-10T14:00")
    member("m-1")
    receipt = make_receipt("R1", member_id="m-1")
    first, created = earning.record_receipt(receipt, None, {"p": 1})
    again, created_again = earning.record_receipt(receipt, None, {"p": 1})
    assert created and not created_again and first == again
    with pytest.raises(Conflict) as conflict:
        earning.record_receipt(receipt, None, {"p": 2})
    assert conflict.value.code == "RECEIPT_CONFLICT"
    assert member_store.get_member("m-1").balance.pending == 100
    assert_ledger_consistent("m-1")


@pytest.mark.rule("L6", "G2")
def test_points_become_available_on_purchase_date_plus_30_in_the_nightly_run(member, buy, travel):
    travel("2017-08-10T14:00")
    member("m-1")
    buy("R1", "m-1", price=20_000)
    assert loyalty_night(date(2017, 9, 8))["lots_matured"] == 0  # day 30 of the return period
    assert member_store.get_member("m-1").balance.pending == 200
    assert loyalty_night(date(2017, 9, 9))["lots_matured"] == 1
    balance = member_store.get_member("m-1").balance
    assert (balance.pending, balance.available) == (0, 450)
    entries, _ = history_store.history_of("m-1", 10, None)
    assert (entries[0].type, entries[0].points) == ("matured", 200)
    assert_ledger_consistent("m-1")


@pytest.mark.rule("L5", "L6")
def test_an_anonymous_receipt_registered_late_matures_in_the_next_run(member, buy, travel):
    travel("2017-08-10T14:00")
    buy("R1", None, price=30_000)
    travel("2017-10-01T10:00")
    member("m-1")
    result, created = earning.register_receipt("m-1", "R1")
    assert created and (result.points, result.matures_on) == (300, date(2017, 9, 9))
    assert member_store.get_member("m-1").balance.pending == 300
    again, created_again = earning.register_receipt("m-1", "R1")
    assert not created_again and again == result
    loyalty_night(date(2017, 10, 2))
    assert member_store.get_member("m-1").balance.available == 550
    assert [r.receipt.receipt_id for r in earning.receipts("m-1", 10, None)[0]] == ["R1"]
    assert_ledger_consistent("m-1")


@pytest.mark.rule("L5")
def test_a_receipt_is_registered_once_and_never_from_an_external_seller(member, buy, travel):
    travel("2017-08-10T14:00")
    member("m-1")
    member("m-2")
    buy("R1", None)
    buy("R-ext", None, lines=(make_line(seller="external"),))
    buy("R-owned", "m-2")
    earning.register_receipt("m-1", "R1")
    with pytest.raises(Conflict) as taken:
        earning.register_receipt("m-2", "R1")
    assert taken.value.code == "RECEIPT_ALREADY_REGISTERED"
    with pytest.raises(Conflict):
        earning.register_receipt("m-1", "R-owned")
    with pytest.raises(Unprocessable) as external:
        earning.register_receipt("m-1", "R-ext")
    assert external.value.code == "RECEIPT_NOT_ELIGIBLE"
    with pytest.raises(NotFound) as unknown:
        earning.register_receipt("m-1", "nope")
    assert unknown.value.code == "RECEIPT_NOT_FOUND"
    assert member_store.get_member("m-2").balance.pending == 100
    assert_ledger_consistent("m-1")


@pytest.mark.rule("L5")
def test_two_members_racing_for_one_receipt_cannot_both_get_it(member, buy, travel):
    travel("2017-08-10T14:00")
    member("m-1")
    member("m-2")
    buy("R1", None)
    stored, _ = receipt_store.get_receipt("R1")
    earning.register_receipt("m-1", "R1")
    # m-2's request read the receipt before m-1's commit: the attach condition still refuses it.
    with pytest.raises(db.TransactionCancelled), db.transaction() as tx:
        receipt_store.add_receipt_attach(tx, "R1", "m-2", 100)
    assert receipt_store.get_receipt("R1")[0].receipt.member_id == "m-1"
    assert stored.receipt.member_id is None
