"""What a return owes coupons (C8) and trade-in (T12) survives a crash after its ledger write:
recorded with the return, completed by the next loyalty nightly, never twice (issue 9.2)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest

from chalicelib import flows, nightly
from chalicelib.clock import AMSTERDAM
from chalicelib.coupons import service, store
from chalicelib.events import ReceiptReturned
from chalicelib.loyalty import receipt_store, returns
from chalicelib.tradein import inspection as tradein

from .conftest import make_line, record_receipt

AT = datetime(2017, 8, 20, 10, 0, tzinfo=AMSTERDAM)
LINES = (make_line("laptop", 50_000), make_line("mouse", 1_500))


def crash(event: ReceiptReturned) -> list[str]:
    raise RuntimeError("Lambda timed out")


def give_back(receipt_id: str, return_id: str) -> returns.ReturnResult:
    lines = [("laptop", 1), ("mouse", 1)]
    result, _ = flows.record_return(receipt_id, return_id, AT, lines, {"return_id": return_id, "lines": lines})
    return result


@pytest.fixture
def voids(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Trade-in's claim void (T12), counting its calls: claim TI-1 is on receipt R-1."""
    calls: list[str] = []

    def void(event: ReceiptReturned) -> list[str]:
        calls.append(event.return_id)
        return ["TI-1"] if event.receipt.receipt_id == "R-1" else []

    monkeypatch.setattr("chalicelib.tradein.inspection.void_for_return", void)
    return calls


@pytest.fixture
def redeemed(member: Callable[..., str]) -> list[str]:
    """m-1 used a €20 coupon on receipt R-1."""
    m = member("m-1", euros=1000)
    coupon = flows.convert_points(m, 2000, "a").coupon
    service.redeem("R-1", m, "store", LINES, [coupon.code])
    record_receipt("R-1", m, LINES, "2017-08-10T14:00", discount=2000)
    return [coupon.code]


@pytest.mark.rule("C8", "T12")
def test_a_return_that_died_after_its_ledger_write_is_completed_by_the_next_nightly(
    redeemed, voids, monkeypatch, travel
):
    real_restore = service.restore_for_return
    monkeypatch.setattr("chalicelib.coupons.service.restore_for_return", crash)
    with pytest.raises(RuntimeError):
        give_back("R-1", "RET-1")  # the till gives up; it never sends this return again
    assert store.get_coupon(redeemed[0]).status == "used"
    owed = receipt_store.get_return("RET-1")
    assert owed is not None and owed.owed == {"coupon_restore"} and owed.results == {"claim_void": ("TI-1",)}
    monkeypatch.setattr("chalicelib.coupons.service.restore_for_return", real_restore)

    travel("2017-08-21T02:00")
    summary = nightly.run("nightly_loyalty", date(2017, 8, 21))
    assert (summary["returns_completed"], summary["failures"]) == (1, [])
    coupon = store.get_coupon(redeemed[0])
    assert coupon is not None and coupon.status == "active"
    assert voids == ["RET-1"]  # done in the request, not again by the catch-up
    done = receipt_store.get_return("RET-1")
    assert done is not None and done.owed == frozenset()

    again = nightly.run("nightly_loyalty", date(2017, 8, 21))
    assert (again["returns_completed"], again["failures"]) == (0, [])
    assert voids == ["RET-1"]
    # a late resend of the return answers what was done, once
    assert give_back("R-1", "RET-1") == returns.ReturnResult(495, redeemed, ["TI-1"])
    assert voids == ["RET-1"]


@pytest.mark.rule("T12", "C8")
def test_a_claim_void_that_crashed_is_done_by_the_nightly_once(redeemed, voids, monkeypatch):
    counting = tradein.void_for_return  # the `voids` fixture's fake
    monkeypatch.setattr(tradein, "void_for_return", crash)
    with pytest.raises(RuntimeError):
        give_back("R-1", "RET-1")
    assert store.get_coupon(redeemed[0]).status == "active"  # restored in the request (C8)
    monkeypatch.setattr(tradein, "void_for_return", counting)
    for _ in range(2):
        nightly.run("nightly_loyalty", date(2017, 8, 21))
    assert voids == ["RET-1"]
    assert give_back("R-1", "RET-1").claims_voided == ["TI-1"]


@pytest.mark.rule("C8", "T12")
def test_one_failing_return_does_not_stop_the_others_and_is_retried_next_run(now, voids, monkeypatch):
    record_receipt("R-A", None, LINES, "2017-08-10T14:00")
    record_receipt("R-B", None, LINES, "2017-08-10T14:00")
    # These orders redeemed no coupon, so their returns owe only trade-in's claim void (T12).
    monkeypatch.setattr("chalicelib.tradein.inspection.void_for_return", crash)
    for receipt_id in ("R-A", "R-B"):
        with pytest.raises(RuntimeError):
            give_back(receipt_id, f"RET-{receipt_id}")

    def void_fails_for_a(event: ReceiptReturned) -> list[str]:
        if event.receipt.receipt_id == "R-A":
            raise RuntimeError("still down")
        return []

    monkeypatch.setattr("chalicelib.tradein.inspection.void_for_return", void_fails_for_a)
    summary = nightly.run("nightly_loyalty", date(2017, 8, 21))
    assert summary["returns_completed"] == 1
    assert summary["failures"] == [{"id": "RET-R-A", "reason": "RuntimeError"}]
    assert receipt_store.get_return("RET-R-B").owed == frozenset()
    assert receipt_store.get_return("RET-R-A").owed == {"claim_void"}

    monkeypatch.setattr("chalicelib.tradein.inspection.void_for_return", lambda event: [])
    summary = nightly.run("nightly_loyalty", date(2017, 8, 22))
    assert (summary["returns_completed"], summary["failures"]) == (1, [])
    assert receipt_store.get_return("RET-R-A").owed == frozenset()


def test_the_catch_up_reads_only_returns_that_owe_something(now, voids, monkeypatch: Any):
    record_receipt("R-A", None, LINES, "2017-08-10T14:00")
    give_back("R-A", "RET-done")  # completed in its request: out of the sparse index
    assert flows.complete_owed_return_effects(datetime(2017, 8, 21, tzinfo=AMSTERDAM)) == {
        "returns_completed": 0,
        "failures": [],
    }
    assert receipt_store.get_return("RET-done").owed == frozenset()
    assert voids == ["RET-done"]
