"""Returns (L11): pending points shrink, matured points are clawed back with a debt, replays."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from chalicelib import db, flows
from chalicelib.clock import AMSTERDAM
from chalicelib.errors import Conflict, NotFound, Unprocessable
from chalicelib.events import ReceiptReturned
from chalicelib.loyalty import earning, history_store, lot_store, member_store, receipt_store, returns, spending
from tests.integration.loyalty.conftest import assert_ledger_consistent, make_line
from tests.nights import loyalty_night

AT = datetime(2017, 8, 20, 10, tzinfo=AMSTERDAM)


def give_back(receipt_id: str, return_id: str, *lines: tuple[str, int]) -> tuple[returns.ReturnResult, bool]:
    payload = {"return_id": return_id, "lines": [list(x) for x in lines]}
    return flows.record_return(receipt_id, return_id, AT, list(lines), payload)


@pytest.fixture
def effects(monkeypatch):
    """Records what the other domains were told, and answers for them."""
    seen: list[ReceiptReturned] = []

    def restore(event: ReceiptReturned) -> list[str]:
        seen.append(event)
        return ["CPN-1"] if event.receipt.fully_returned else []

    # coupons is told its order redeemed coupons, so each return asks it to restore them
    monkeypatch.setattr("chalicelib.coupons.service.nothing_to_restore", lambda item: False)
    monkeypatch.setattr("chalicelib.coupons.service.restore_for_return", restore)
    monkeypatch.setattr("chalicelib.tradein.inspection.void_for_return", lambda event: ["TI-7"])
    return seen


@pytest.mark.rule("L11")
def test_a_return_in_the_pending_period_reduces_the_pending_points(member, buy, travel, effects):
    travel("2017-08-10T14:00")
    member("m-1")
    buy("R1", "m-1", lines=(make_line("1", 40_000), make_line("2", 5_000, quantity=3)))
    result, created = give_back("R1", "ret-1", ("2", 2))
    assert created and result.points_reversed == 100
    assert member_store.get_member("m-1").balance.pending == 450
    assert lot_store.get_lot("m-1", "receipt#R1").remaining == 450
    assert earning.get_receipt("R1").returned == {"2": 2}
    result, _ = give_back("R1", "ret-2", ("1", 1), ("2", 1))
    assert result.points_reversed == 450
    assert result.coupons_restored == ["CPN-1"] and result.claims_voided == ["TI-7"]
    assert member_store.get_member("m-1").balance.pending == 0
    assert lot_store.get_lot("m-1", "receipt#R1").status == "reversed"
    assert loyalty_night(date(2017, 9, 9))["lots_matured"] == 0
    assert_ledger_consistent("m-1")


@pytest.mark.rule("L11")
def test_a_replayed_return_answers_the_same_and_changes_nothing(member, buy, travel, effects):
    travel("2017-08-10T14:00")
    member("m-1")
    buy("R1", "m-1", price=30_000)
    first, created = give_back("R1", "ret-1", ("1", 1))
    again, created_again = give_back("R1", "ret-1", ("1", 1))
    assert created and not created_again
    assert first == again == returns.ReturnResult(300, ["CPN-1"], ["TI-7"])
    assert len(effects) == 1  # the stored answer is replayed; the event is not published again
    assert member_store.get_member("m-1").balance.pending == 0
    with pytest.raises(Conflict) as conflict:
        give_back("R1", "ret-1", ("1", 0))
    assert conflict.value.code == "RETURN_CONFLICT"
    assert_ledger_consistent("m-1")


def test_a_return_whose_reactions_were_lost_publishes_them_on_replay(member, buy, travel, effects, monkeypatch):
    """A crash between the reactions and marking them done: the replay publishes again."""
    travel("2017-08-10T14:00")
    member("m-1")
    buy("R1", "m-1", price=30_000)
    monkeypatch.setattr(
        receipt_store, "mark_return_effects_done", lambda *a: (_ for _ in ()).throw(RuntimeError("crash"))
    )
    with pytest.raises(RuntimeError):
        give_back("R1", "ret-1", ("1", 1))
    monkeypatch.undo()
    monkeypatch.setattr("chalicelib.coupons.service.nothing_to_restore", lambda item: False)
    monkeypatch.setattr("chalicelib.coupons.service.restore_for_return", lambda e: ["CPN-1"])
    monkeypatch.setattr("chalicelib.tradein.inspection.void_for_return", lambda e: ["TI-7"])
    result, created = give_back("R1", "ret-1", ("1", 1))
    assert not created and result == returns.ReturnResult(300, ["CPN-1"], ["TI-7"])
    assert member_store.get_member("m-1").balance.pending == 0


@pytest.mark.rule("L11")
def test_returning_more_than_was_bought_is_refused(member, buy, travel, effects):
    travel("2017-08-10T14:00")
    member("m-1")
    buy("R1", "m-1", lines=(make_line("1", 10_000, quantity=2),))
    give_back("R1", "ret-1", ("1", 1))
    with pytest.raises(Unprocessable) as refused:
        give_back("R1", "ret-2", ("1", 2))
    assert refused.value.code == "RETURN_EXCEEDS_PURCHASE"
    with pytest.raises(Unprocessable):
        give_back("R1", "ret-3", ("nope", 1))
    with pytest.raises(NotFound):
        give_back("R-unknown", "ret-4", ("1", 1))
    assert earning.get_receipt("R1").returned == {"1": 1}


@pytest.mark.rule("L11")
def test_a_return_after_maturation_claws_back_and_a_shortfall_becomes_debt(member, buy, travel, effects):
    travel("2017-08-10T14:00")
    member("m-1")  # 250 welcome points
    buy("R1", "m-1", price=50_000)
    loyalty_night(date(2017, 9, 9))
    assert member_store.get_member("m-1").balance.available == 750
    with db.transaction() as tx:
        spending.add_spend(
            tx, spending.plan_spend("m-1", 700, date(2017, 9, 10), "coupon:C1")
        )  # welcome lot first, then R1
    travel("2017-09-15T10:00")
    result, _ = give_back("R1", "ret-1", ("1", 1))
    assert result.points_reversed == 500
    balance = member_store.get_member("m-1").balance
    assert (balance.available, balance.debt) == (0, 450)
    assert_ledger_consistent("m-1")
    # L11: the next points that become available settle the debt first.
    buy("R2", "m-1", price=60_000, when="2017-09-15T10:00")
    summary = loyalty_night(date(2017, 10, 15))
    assert summary["debt_settled"] == 450
    balance = member_store.get_member("m-1").balance
    assert (balance.available, balance.debt) == (150, 0)
    entries, _ = history_store.history_of("m-1", 3, None)
    assert {(e.type, e.points) for e in entries[:2]} == {("matured", 600), ("adjusted", -450)}
    assert_ledger_consistent("m-1")


@pytest.mark.rule("L11")
def test_a_claw_back_takes_the_receipts_own_lot_first(member, buy, travel, effects):
    travel("2017-08-10T14:00")
    member("m-1")
    buy("R1", "m-1", price=20_000)
    loyalty_night(date(2017, 9, 9))
    travel("2017-09-12T10:00")
    result, _ = give_back("R1", "ret-1", ("1", 1))
    assert result.points_reversed == 200
    assert lot_store.get_lot("m-1", "receipt#R1").remaining == 0
    assert lot_store.get_lot("m-1", "welcome#m-1").remaining == 250
    assert member_store.get_member("m-1").balance == member_store.get_member("m-1").balance.__class__(0, 250, 0)


def test_an_anonymous_receipt_can_be_returned_without_points(buy, travel, effects):
    travel("2017-08-10T14:00")
    buy("R1", None)
    result, created = give_back("R1", "ret-1", ("1", 1))
    assert created and result.points_reversed == 0
    assert effects[0].receipt.returned == {"1": 1}
