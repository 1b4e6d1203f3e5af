"""The nightly run: maturation (L6), expiry (L7), reruns, resumption, and what it costs."""

from __future__ import annotations

from datetime import date

import pytest
from botocore.client import BaseClient

from chalicelib import db
from chalicelib.loyalty import history_store, lot_store, maturation, member_store, rules, spending
from chalicelib.loyalty.rules import Lot
from tests.integration.loyalty.conftest import assert_ledger_consistent
from tests.nights import loyalty_night


@pytest.mark.rule("L7")
def test_points_expire_in_the_run_after_their_last_valid_day(member, buy, travel):
    travel("2017-08-10T14:00")
    member("m-1")  # welcome points valid until 2018-08-09
    buy("R1", "m-1", price=10_000)  # base points valid until 2019-08-09
    loyalty_night(date(2017, 9, 9))
    assert loyalty_night(date(2018, 8, 9))["lots_expired"] == 0
    summary = loyalty_night(date(2018, 8, 10))
    assert (summary["lots_expired"], summary["points_expired"]) == (1, 250)
    assert member_store.get_member("m-1").balance.available == 100
    entries, _ = history_store.history_of("m-1", 1, None)
    assert (entries[0].type, entries[0].points) == ("expired", -250)
    assert loyalty_night(date(2019, 8, 10))["points_expired"] == 100
    assert member_store.get_member("m-1").balance.available == 0
    assert_ledger_consistent("m-1")


@pytest.mark.rule("L7", "L10")
def test_spent_lots_leave_the_expiry_work_list_and_only_the_rest_expires(member, travel):
    travel("2017-08-10T14:00")
    member("m-1")
    with db.transaction() as tx:
        spending.add_spend(tx, spending.plan_spend("m-1", 200, date(2017, 8, 11), "coupon:x"))
    summary = loyalty_night(date(2018, 8, 10))
    assert (summary["lots_expired"], summary["points_expired"]) == (1, 50)
    assert_ledger_consistent("m-1")


@pytest.mark.rule("L6", "L7")
def test_a_missed_night_is_caught_up_and_a_rerun_changes_nothing(member, buy, travel):
    travel("2017-08-10T14:00")
    member("m-1")
    buy("R1", "m-1", price=10_000, when="2017-08-01T10:00")
    buy("R2", "m-1", price=20_000, when="2017-08-05T10:00")
    first = loyalty_night(date(2017, 9, 20))  # nothing ran since August
    assert (first["lots_matured"], first["points_matured"]) == (2, 300)
    second = loyalty_night(date(2017, 9, 20))
    assert (second["lots_matured"], second["points_matured"], second["lots_expired"]) == (0, 0, 0)
    assert member_store.get_member("m-1").balance.available == 550
    assert_ledger_consistent("m-1")


@pytest.mark.rule("L6")
class ProcessDied(BaseException):
    """The Lambda dies (timeout, out of memory): not an item's error that the run records."""


def test_a_run_resumed_after_a_crash_moves_each_lot_once(member, buy, travel, monkeypatch):
    travel("2017-08-10T14:00")
    member("m-1")
    for i in range(4):
        buy(f"R{i}", "m-1", price=10_000)
    real = maturation.mature_lot
    done: list[str] = []

    def crash_after_two(lot: Lot, today: date, counts: maturation.NightlyCounts) -> None:
        if len(done) == 2:
            raise ProcessDied
        real(lot, today, counts)
        done.append(lot.lot_id)

    monkeypatch.setattr(maturation, "mature_lot", crash_after_two)
    with pytest.raises(ProcessDied):
        loyalty_night(date(2017, 9, 9))
    monkeypatch.undo()
    assert member_store.get_member("m-1").balance.pending == 200
    resumed = loyalty_night(date(2017, 9, 9))
    assert resumed["lots_matured"] == 2
    assert member_store.get_member("m-1").balance.available == 650
    assert_ledger_consistent("m-1")


def test_a_stale_index_entry_is_skipped_by_the_lots_condition(member, buy, travel):
    """GSI reads lag: a lot handed out by the index after it matured must not mature twice."""
    travel("2017-08-10T14:00")
    member("m-1")
    buy("R1", "m-1", price=10_000)
    stale = lot_store.get_lot("m-1", "receipt#R1")
    loyalty_night(date(2017, 9, 9))
    counts = maturation.NightlyCounts()
    maturation.mature_lot(stale, date(2017, 9, 9), counts)
    assert (counts.lots_matured, counts.skipped) == (0, 1)
    assert member_store.get_member("m-1").balance.available == 350
    assert_ledger_consistent("m-1")


def _count_requests(monkeypatch) -> dict[str, int]:
    calls: dict[str, int] = {}
    real = BaseClient._make_api_call

    def counting(self, operation_name, api_params):  # type: ignore[no-untyped-def]
        calls[operation_name] = calls.get(operation_name, 0) + 1
        return real(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counting)
    return calls


@pytest.mark.rule("L6", "L7")
def test_the_nightly_cost_follows_the_due_lots_not_the_table(member, buy, travel, monkeypatch):
    travel("2017-08-10T14:00")
    for m in range(6):
        member(f"m-{m}")
        for r in range(10):  # 60 receipts, none due before 2017-09-09
            buy(f"R{m}-{r}", f"m-{m}", price=1_000)
    buy("due-1", "m-0", price=5_000, when="2017-07-01T10:00")
    buy("due-2", "m-1", price=5_000, when="2017-07-02T10:00")

    calls = _count_requests(monkeypatch)
    summary = loyalty_night(date(2017, 8, 10))
    shards = 8
    assert summary["lots_matured"] == 2
    assert "Scan" not in calls
    # one page per shard of each index (maturing, expiring, returns owing effects): none of the 60 not-due lots
    assert calls["Query"] == 3 * shards
    # the lots of a page share a transaction that expects "no debt": no read on the common path
    # (these two are in different shards, so one transaction each)
    per_lot = {"GetItem": 0, "TransactWriteItems": 1}
    assert calls.get("GetItem", 0) == 2 * per_lot["GetItem"]
    assert calls.get("TransactWriteItems", 0) == 2 * per_lot["TransactWriteItems"]

    calls.clear()
    assert loyalty_night(date(2017, 8, 10))["lots_matured"] == 0
    assert calls == {"Query": 3 * shards}


def _due_lots(member, buy, members: int, lots: int) -> set[int]:
    """`members` members with `lots` receipts each, due on 2017-08-10; the shards they fall in."""
    shards = set()
    for m in range(members):
        member(f"m-{m}")
        for r in range(lots):
            buy(f"R{m}-{r}", f"m-{m}", price=1_000 + 100 * r, when="2017-07-01T10:00")
            shards.add(rules.shard_of(f"m-{m}#receipt#R{m}-{r}", 8))
    return shards


@pytest.mark.rule("L6", "L7")
def test_the_lots_of_a_page_move_in_one_transaction_without_reads(member, buy, travel, monkeypatch):
    """Issue 12: 60 due lots of 20 members, 8 shards: one transaction per shard's page, not per lot."""
    travel("2017-08-10T14:00")
    shards = _due_lots(member, buy, 20, 3)
    calls = _count_requests(monkeypatch)
    summary = loyalty_night(date(2017, 8, 10))
    assert (summary["lots_matured"], summary["points_matured"], summary["failures"]) == (60, 20 * 33, [])
    assert calls.get("TransactWriteItems") == len(shards)  # one per shard with due lots
    assert "GetItem" not in calls and "BatchGetItem" not in calls
    for m in range(20):
        assert member_store.get_member(f"m-{m}").balance == rules.Balance(pending=0, available=283)
        assert_ledger_consistent(f"m-{m}")
    # a year on, the welcome points of all 20 expire the same way
    calls.clear()
    summary = loyalty_night(date(2018, 8, 10))
    assert (summary["lots_expired"], summary["points_expired"]) == (20, 20 * 250)
    assert calls.get("TransactWriteItems", 0) <= 8 and "GetItem" not in calls
    for m in range(20):
        assert member_store.get_member(f"m-{m}").balance.available == 33
        assert_ledger_consistent(f"m-{m}")


@pytest.mark.rule("L6", "L11")
def test_a_batch_with_a_member_in_debt_falls_back_to_one_lot_at_a_time(member, buy, travel):
    """The batch expects no debt; the debtor's lot then settles the debt on its own (L11)."""
    travel("2017-08-10T14:00")
    _due_lots(member, buy, 6, 2)
    with db.transaction() as tx:  # a debt left by an earlier return (L11)
        member_store.add_balance_change(tx, "m-3", debt=15)
    summary = loyalty_night(date(2017, 8, 10))
    assert (summary["lots_matured"], summary["debt_settled"], summary["failures"]) == (12, 15, [])
    assert member_store.get_member("m-3").balance == rules.Balance(pending=0, available=250 + 21 - 15, debt=0)
    for m in (0, 1, 2, 4, 5):
        assert member_store.get_member(f"m-{m}").balance == rules.Balance(pending=0, available=271)
        assert_ledger_consistent(f"m-{m}")


@pytest.mark.rule("L6")
def test_one_bad_lot_in_a_batch_never_blocks_the_others(member, buy, travel, monkeypatch):
    travel("2017-08-10T14:00")
    _due_lots(member, buy, 6, 2)
    real = lot_store.add_lot_change

    def refuse_m2(tx, before, after):  # type: ignore[no-untyped-def]
        if before.member_id == "m-2":
            raise RuntimeError("this lot's write is refused")
        real(tx, before, after)

    monkeypatch.setattr(lot_store, "add_lot_change", refuse_m2)
    summary = loyalty_night(date(2017, 8, 10))
    assert summary["lots_matured"] == 10
    assert sorted(f["id"] for f in summary["failures"]) == ["lot:m-2#receipt#R2-0", "lot:m-2#receipt#R2-1"]
    assert {f["reason"] for f in summary["failures"]} == {"RuntimeError"}
    assert member_store.get_member("m-2").balance.pending == 21
    monkeypatch.undo()
    retried = loyalty_night(date(2017, 8, 10))  # the next run retries them
    assert (retried["lots_matured"], retried["failures"]) == (2, [])
    for m in range(6):
        assert member_store.get_member(f"m-{m}").balance == rules.Balance(pending=0, available=271)
        assert_ledger_consistent(f"m-{m}")


def test_batches_hold_at_most_100_actions_and_each_member_once():
    lots = [
        Lot(
            f"m-{m}",
            f"receipt#{r}",
            "receipt",
            "base",
            1,
            1,
            date(2017, 1, 1),
            date(2017, 1, 31),
            date(2019, 1, 1),
            "pending",
        )
        for m in range(40)
        for r in range(2 if m else 70)
    ]
    batches = maturation._batches(lots, actions_per_lot=2)
    assert sum(len(g) for b in batches for g in b) == len(lots)
    for batch in batches:
        assert sum(2 * len(g) + 1 for g in batch) <= 100
        members = [g[0].member_id for g in batch]
        assert len(members) == len(set(members))


def test_lots_are_spread_over_the_shards(member, buy, travel):
    travel("2017-08-10T14:00")
    member("m-1")
    for r in range(40):
        buy(f"R{r}", "m-1", price=1_000)
    shards = {rules.shard_of(f"m-1#receipt#R{r}", 8) for r in range(40)}
    assert len(shards) >= 6
    found = sum(len(list(lot_store.due_to_mature(s, date(2017, 9, 9)))) for s in range(8))
    assert found == 40
