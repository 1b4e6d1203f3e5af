"""The nightly run: maturation (L6), expiry (L7), reruns, resumption, and what it costs."""

from __future__ import annotations

from datetime import date

import pytest
from botocore.client import BaseClient

from chalicelib import db
from chalicelib.loyalty import history_store, jobs, lot_store, maturation, member_store, rules, spending
from chalicelib.loyalty.rules import Lot
from tests.integration.loyalty.conftest import assert_ledger_consistent


@pytest.mark.rule("L7")
def test_points_expire_in_the_run_after_their_last_valid_day(member, buy, travel):
    travel("2017-08-10T14:00")
    member("m-1")  # welcome points valid until 2018-08-09
    buy("R1", "m-1", price=10_000)  # base points valid until 2019-08-09
    jobs.run_nightly(date(2017, 9, 9))
    assert jobs.run_nightly(date(2018, 8, 9))["lots_expired"] == 0
    summary = jobs.run_nightly(date(2018, 8, 10))
    assert (summary["lots_expired"], summary["points_expired"]) == (1, 250)
    assert member_store.get_member("m-1").balance.available == 100
    entries, _ = history_store.history_of("m-1", 1, None)
    assert (entries[0].type, entries[0].points) == ("expired", -250)
    assert jobs.run_nightly(date(2019, 8, 10))["points_expired"] == 100
    assert member_store.get_member("m-1").balance.available == 0
    assert_ledger_consistent("m-1")


@pytest.mark.rule("L7", "L10")
def test_spent_lots_leave_the_expiry_work_list_and_only_the_rest_expires(member, travel):
    travel("2017-08-10T14:00")
    member("m-1")
    with db.transaction() as tx:
        spending.add_spend(tx, spending.plan_spend("m-1", 200, date(2017, 8, 11), "coupon:x"))
    summary = jobs.run_nightly(date(2018, 8, 10))
    assert (summary["lots_expired"], summary["points_expired"]) == (1, 50)
    assert_ledger_consistent("m-1")


@pytest.mark.rule("L6", "L7")
def test_a_missed_night_is_caught_up_and_a_rerun_changes_nothing(member, buy, travel):
    travel("2017-08-10T14:00")
    member("m-1")
    buy("R1", "m-1", price=10_000, when="2017-08-01T10:00")
    buy("R2", "m-1", price=20_000, when="2017-08-05T10:00")
    first = jobs.run_nightly(date(2017, 9, 20))  # nothing ran since August
    assert (first["lots_matured"], first["points_matured"]) == (2, 300)
    second = jobs.run_nightly(date(2017, 9, 20))
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
        jobs.run_nightly(date(2017, 9, 9))
    monkeypatch.undo()
    assert member_store.get_member("m-1").balance.pending == 200
    resumed = jobs.run_nightly(date(2017, 9, 9))
    assert resumed["lots_matured"] == 2
    assert member_store.get_member("m-1").balance.available == 650
    assert_ledger_consistent("m-1")


def test_a_stale_index_entry_is_skipped_by_the_lots_condition(member, buy, travel):
    """GSI reads lag: a lot handed out by the index after it matured must not mature twice."""
    travel("2017-08-10T14:00")
    member("m-1")
    buy("R1", "m-1", price=10_000)
    stale = lot_store.get_lot("m-1", "receipt#R1")
    jobs.run_nightly(date(2017, 9, 9))
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
    summary = jobs.run_nightly(date(2017, 8, 10))
    shards = 8
    assert summary["lots_matured"] == 2
    assert "Scan" not in calls
    # one page per shard of each index (maturing, expiring, returns owing effects): none of the 60 not-due lots
    assert calls["Query"] == 3 * shards
    # one transaction per lot, which expects "no debt" in its condition: no read on the common path
    per_lot = {"GetItem": 0, "TransactWriteItems": 1}
    assert calls.get("GetItem", 0) == 2 * per_lot["GetItem"]
    assert calls.get("TransactWriteItems", 0) == 2 * per_lot["TransactWriteItems"]

    calls.clear()
    assert jobs.run_nightly(date(2017, 8, 10))["lots_matured"] == 0
    assert calls == {"Query": 3 * shards}


def test_lots_are_spread_over_the_shards(member, buy, travel):
    travel("2017-08-10T14:00")
    member("m-1")
    for r in range(40):
        buy(f"R{r}", "m-1", price=1_000)
    shards = {rules.shard_of(f"m-1#receipt#R{r}", 8) for r in range(40)}
    assert len(shards) >= 6
    found = sum(len(list(lot_store.due_to_mature(s, date(2017, 9, 9)))) for s in range(8))
    assert found == 40
