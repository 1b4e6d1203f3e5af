"""Account merge (L13): lots, receipts, history and coupons move; atomic per lot; resumable."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from chalicelib import db, flows
from chalicelib.clock import AMSTERDAM
from chalicelib.errors import Conflict, Gone, NotFound, Unprocessable
from chalicelib.loyalty import accounts, earning, history_store, lot_store, member_store, merging, spending
from tests.integration.loyalty.conftest import assert_ledger_consistent, make_receipt
from tests.nights import loyalty_night


@pytest.fixture
def coupons(monkeypatch):
    moved: list[tuple[str, str]] = []

    def transfer(source: str, target: str) -> list[str]:
        moved.append((source, target))
        return ["CPN-OLD"]

    monkeypatch.setattr("chalicelib.coupons.service.transfer_coupons", transfer)
    return moved


@pytest.fixture
def old_account(member, buy, travel):
    """m-old: welcome 250 + consent 100 available, R1 matured (100), R2 pending (200)."""
    travel("2017-08-10T14:00")
    member("m-old", sharing=True)
    buy("R1", "m-old", price=10_000, when="2017-07-01T10:00")
    buy("R2", "m-old", price=20_000)
    loyalty_night(date(2017, 8, 10))
    travel("2017-08-20T10:00")
    member("m-new")
    return "m-old"


@pytest.mark.rule("L13")
def test_merge_moves_lots_receipts_history_and_coupons_and_closes_the_old_account(old_account, coupons):
    result = flows.merge("m-new", "m-old")
    assert (result.lots_moved, result.receipts_moved, result.coupons_moved) == (4, 2, ["CPN-OLD"])
    assert coupons == [("m-old", "m-new")]
    new = member_store.get_member("m-new")
    assert (new.balance.available, new.balance.pending) == (250 + 350 + 100, 200)
    assert lot_store.lots_of("m-old") == []
    assert {lot.lot_id for lot in lot_store.lots_of("m-new")} == {
        "welcome#m-new",
        "welcome#m-old",
        "marketing_consent#m-old",
        "receipt#R1",
        "receipt#R2",
    }
    assert earning.get_receipt("R2").member_id == "m-new"
    assert {s.receipt.receipt_id for s in earning.receipts("m-new", 10, None)[0]} == {"R1", "R2"}
    entries, _ = history_store.history_of("m-new", 50, None)
    causes = [e.cause for e in entries]
    assert "receipt:R1" in causes and "welcome" in causes and "merge:m-old" in causes
    old = member_store.get_member("m-old")
    assert (old.status, old.merged_into, old.balance) == ("merged", "m-new", old.balance.__class__())
    with pytest.raises(Gone):
        accounts.require_active_member("m-old")
    assert_ledger_consistent("m-new")
    assert_ledger_consistent("m-old")
    # the moved pending lot matures on the new account
    loyalty_night(date(2017, 9, 9))
    assert member_store.get_member("m-new").balance.pending == 0
    assert_ledger_consistent("m-new")


@pytest.mark.rule("L13")
def test_a_merge_interrupted_after_some_lots_resumes_and_moves_each_lot_once(old_account, coupons, monkeypatch):
    real = merging._move_lot
    moved: list[str] = []

    def crash_after_two(lot, target_id):  # type: ignore[no-untyped-def]
        if len(moved) == 2:
            raise RuntimeError("Lambda timed out")
        moved.append(lot.lot_id)
        return real(lot, target_id)

    monkeypatch.setattr(merging, "_move_lot", crash_after_two)
    with pytest.raises(RuntimeError):
        flows.merge("m-new", "m-old")
    monkeypatch.setattr(merging, "_move_lot", real)
    # half-way: every lot is on exactly one side and both ledgers add up; the old account is frozen
    assert len(lot_store.lots_of("m-old")) == 2
    assert_ledger_consistent("m-old")
    assert_ledger_consistent("m-new")
    with pytest.raises(Gone):
        accounts.require_active_member("m-old")
    result = flows.merge("m-new", "m-old")
    assert result.lots_moved == 2
    assert member_store.get_member("m-new").balance.available == 700
    again = flows.merge("m-new", "m-old")
    assert again == result  # a retry of the completed merge answers what the merge did
    assert member_store.get_member("m-new").balance.available == 700
    assert_ledger_consistent("m-new")


@pytest.mark.rule("L13", "L11")
def test_merge_moves_a_debt(old_account, coupons, monkeypatch):
    monkeypatch.setattr("chalicelib.coupons.service.restore_for_return", lambda e: [])
    monkeypatch.setattr("chalicelib.tradein.inspection.void_for_return", lambda e: [])
    with db.transaction() as tx:
        spending.add_spend(tx, spending.plan_spend("m-old", 450, date(2017, 8, 20), "coupon:all"))
    flows.record_return("R1", "ret-1", datetime(2017, 8, 20, tzinfo=AMSTERDAM), [("1", 1)], {"r": 1})
    assert member_store.get_member("m-old").balance.debt == 100
    flows.merge("m-new", "m-old")
    assert member_store.get_member("m-new").balance.debt == 100
    assert member_store.get_member("m-old").balance.debt == 0


@pytest.mark.rule("L13")
def test_merge_refusals(old_account, coupons, member):
    with pytest.raises(Unprocessable):
        flows.merge("m-new", "m-new")
    with pytest.raises(NotFound):
        flows.merge("m-new", "m-nobody")
    with pytest.raises(NotFound):
        flows.merge("m-nobody", "m-old")
    flows.merge("m-new", "m-old")
    member("m-third")
    with pytest.raises(Conflict) as other:
        flows.merge("m-third", "m-old")
    assert other.value.code == "ALREADY_MERGED"
    with pytest.raises(Gone):
        flows.merge("m-old", "m-third")


@pytest.mark.rule("L13", "L4")
def test_after_a_merge_the_old_card_and_id_earn_on_the_new_account(old_account, coupons, buy):
    card = member_store.get_member("m-old").card_number
    flows.merge("m-new", "m-old")
    result, _ = earning.record_receipt(make_receipt("R9"), card, {"card": card})
    assert result.member_id == "m-new"
    assert buy("R10", "m-old").member_id == "m-new"


@pytest.mark.rule("L13", "L12")
def test_an_emptied_lot_moves_without_a_zero_point_history_entry(old_account, coupons):
    ret = [("1", 1)]
    flows.record_return("R2", "ret-1", datetime(2017, 8, 20, 10, tzinfo=AMSTERDAM), ret, {"r": 1})  # R2 -> 0
    result = flows.merge("m-new", "m-old")
    assert result.lots_moved == 4
    entries, _ = history_store.history_of("m-new", 50, None)
    adjusted = sorted(e.points for e in entries if e.type == "adjusted" and e.cause == "merge:m-old")
    assert adjusted == [100, 100, 250]  # R1, consent, welcome; the emptied R2 lot moved silently
    assert_ledger_consistent("m-new")


@pytest.mark.rule("L13")
def test_a_retry_of_a_completed_merge_answers_what_the_merge_did_and_moves_nothing(old_account, coupons):
    first = flows.merge("m-new", "m-old")
    balance = member_store.get_member("m-new").balance
    again = flows.merge("m-new", "m-old")
    assert again == first and first.lots_moved == 4
    assert member_store.get_member("m-new").balance == balance
    assert_ledger_consistent("m-new")
