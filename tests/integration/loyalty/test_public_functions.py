"""The functions other domains call: require_active_member, add_spend (coupons), get_receipt."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib import db, flows
from chalicelib.errors import Gone, NotFound, Unprocessable
from chalicelib.loyalty import accounts, earning, history_store, lot_store, member_store, spending
from chalicelib.loyalty.models import MemberModel
from tests.integration.loyalty.conftest import assert_ledger_consistent, make_line


def test_require_active_member_finds_refuses_unknown_and_merged(member):
    member("m-1")
    assert accounts.require_active_member("m-1").member_id == "m-1"
    with pytest.raises(NotFound) as unknown:
        accounts.require_active_member("nobody")
    assert unknown.value.code == "MEMBER_NOT_FOUND"
    MemberModel("m-1").update(actions=[MemberModel.status.set("merged"), MemberModel.merged_into.set("m-2")])
    with pytest.raises(Gone) as gone:
        accounts.require_active_member("m-1")
    assert (gone.value.code, gone.value.status) == ("ACCOUNT_MERGED", 410)


@pytest.mark.rule("L10")
def test_add_spend_takes_soonest_expiring_lots_first_inside_the_callers_transaction(member, travel):
    travel("2017-01-10T10:00")
    member("m-1")  # 250 welcome points, expiring 2018-01-09
    travel("2017-03-01T10:00")
    accounts.update_profile("m-1", {"partner_data_sharing": True})  # 100 points, expiring 2018-02-28
    with db.transaction() as tx:
        spending.add_spend(tx, spending.plan_spend("m-1", 300, date(2017, 3, 1), "coupon:abc"))
    lots = {lot.lot_id: lot.remaining for lot in lot_store.lots_of("m-1")}
    assert lots == {"welcome#m-1": 0, "marketing_consent#m-1": 50}
    assert member_store.get_member("m-1").balance.available == 50
    entries, _ = history_store.history_of("m-1", 10, None)
    assert entries[0].type == "spent" and entries[0].points == -300 and entries[0].cause == "coupon:abc"
    assert_ledger_consistent("m-1")


@pytest.mark.rule("L10")
def test_add_spend_refuses_short_balance_up_front_and_a_replay_commits_nothing(member, travel):
    travel("2017-01-10T10:00")
    member("m-1")
    with pytest.raises(Unprocessable) as short, db.transaction() as tx:
        spending.add_spend(tx, spending.plan_spend("m-1", 251, date(2017, 1, 10), "coupon:big"))
    assert short.value.code == "INSUFFICIENT_POINTS"
    with db.transaction() as tx:
        spending.add_spend(tx, spending.plan_spend("m-1", 100, date(2017, 1, 10), "coupon:x"))
    with pytest.raises(db.TransactionCancelled), db.transaction() as tx:
        spending.add_spend(tx, spending.plan_spend("m-1", 100, date(2017, 1, 10), "coupon:x"))
    assert member_store.get_member("m-1").balance.available == 150
    assert_ledger_consistent("m-1")


def test_add_spend_fails_whole_transaction_when_a_lot_changed_meanwhile(member, travel):
    travel("2017-01-10T10:00")
    member("m-1")
    with pytest.raises(db.TransactionCancelled), db.transaction() as tx:
        spending.add_spend(tx, spending.plan_spend("m-1", 200, date(2017, 1, 10), "coupon:race"))
        # another spend commits between planning and commit
        with db.transaction() as other:
            spending.add_spend(other, spending.plan_spend("m-1", 100, date(2017, 1, 10), "coupon:other"))
    assert member_store.get_member("m-1").balance.available == 150
    assert_ledger_consistent("m-1")


def test_add_spend_refuses_a_spend_over_too_many_lots(member, buy, travel, monkeypatch):
    travel("2017-01-10T10:00")
    member("m-1")
    for i in range(3):
        buy(f"R{i}", "m-1", price=1_000, when="2016-11-01T10:00")
    from tests.nights import loyalty_night

    loyalty_night(date(2017, 1, 10))
    monkeypatch.setenv("SPEND_MAX_LOTS", "2")
    with pytest.raises(Unprocessable) as refused, db.transaction() as tx:
        spending.add_spend(tx, spending.plan_spend("m-1", 275, date(2017, 1, 10), "coupon:frag"))
    assert refused.value.code == "SPEND_TOO_FRAGMENTED"


def test_get_receipt_holds_cumulative_returned_quantities(member, buy, travel):
    travel("2017-08-10T14:00")
    member("m-1")
    buy("R1", "m-1", lines=(make_line("1", 80_000, 2), make_line("2", 1_000, 1)))
    assert earning.get_receipt("nope") is None
    from datetime import datetime

    from chalicelib.clock import AMSTERDAM

    at = datetime(2017, 8, 12, 10, tzinfo=AMSTERDAM)
    flows.record_return("R1", "ret-1", at, [("1", 1)], {"return_id": "ret-1", "lines": [["1", 1]]})
    flows.record_return("R1", "ret-2", at, [("1", 1), ("2", 1)], {"return_id": "ret-2", "lines": "x"})
    receipt = earning.get_receipt("R1")
    assert receipt is not None
    assert receipt.returned == {"1": 2, "2": 1}
    assert receipt.fully_returned
    assert receipt.line("1").category == "laptop"
