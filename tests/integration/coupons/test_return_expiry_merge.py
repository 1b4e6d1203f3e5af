"""Restore on return (C8), the nightly expiry (C2) and the account merge (L13) on moto."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

import pytest

from chalicelib import flows, nightly
from chalicelib.clock import AMSTERDAM
from chalicelib.coupons import service, store
from chalicelib.coupons.models import CouponModel
from chalicelib.errors import Conflict
from chalicelib.events import ReceiptReturned
from chalicelib.loyalty import earning
from tests.nights import coupon_expiry

from .conftest import make_line, record_receipt

AT = datetime(2017, 8, 20, 10, 0, tzinfo=AMSTERDAM)


@pytest.fixture
def redeemed(member: Any) -> dict[str, Any]:
    """m-1 used a €20 and a €40 coupon on receipt R-1: a €500 laptop and a €15 mouse."""
    m = member("m-1", euros=3000)
    twenty = flows.convert_points(m, 2000, "a").coupon
    forty = flows.convert_points(m, 4000, "b").coupon
    lines = (make_line("laptop", 50_000), make_line("mouse", 1_500), make_line("care", 9_900, kind="insurance"))
    service.redeem("R-1", m, "store", lines, [twenty.code, forty.code])
    record_receipt("R-1", m, lines, "2017-08-10T14:00", discount=6000)
    return {"member": m, "codes": [twenty.code, forty.code], "coupons": [twenty, forty]}


def give_back(return_id: str, *lines: tuple[str, int]) -> list[str]:
    result, _ = flows.record_return(
        "R-1", return_id, AT, list(lines), {"return_id": return_id, "lines": [list(line) for line in lines]}
    )
    return result.coupons_restored


def statuses(codes: list[str]) -> list[str]:
    return [store.get_coupon(c).status for c in codes]  # type: ignore[union-attr]


@pytest.mark.rule("C8")
def test_returning_the_whole_receipt_restores_the_coupons_with_their_expiry(redeemed):
    restored = give_back("RET-1", ("laptop", 1), ("mouse", 1), ("care", 1))
    assert restored == redeemed["codes"]
    assert statuses(redeemed["codes"]) == ["active", "active"]
    for before in redeemed["coupons"]:
        after = store.get_coupon(before.code)
        assert after is not None
        assert (after.expires_on, after.redeemed_receipt_id) == (before.expires_on, None)
    page, _ = flows.list_coupons(redeemed["member"], 50, None)
    assert [s for _, s in page] == ["active", "active"]


@pytest.mark.rule("C8")
def test_a_replayed_return_restores_nothing_twice_and_reports_the_same_codes(redeemed):
    give_back("RET-1", ("laptop", 1), ("mouse", 1), ("care", 1))
    assert give_back("RET-1", ("laptop", 1), ("mouse", 1), ("care", 1)) == redeemed["codes"]
    receipt = earning.get_receipt("R-1")
    assert receipt is not None
    event = ReceiptReturned(receipt=receipt, return_id="RET-1", returned_at=AT)
    assert service.restore_for_return(event) == redeemed["codes"]
    assert service.restore_for_return(replace(event, return_id="RET-other")) == []
    # the restored coupons are used again on a new order: a late replay must not free them
    service.redeem("R-2", redeemed["member"], "store", (make_line("tv", 90_000),), redeemed["codes"])
    assert service.restore_for_return(event) == redeemed["codes"]
    assert statuses(redeemed["codes"]) == ["used", "used"]


@pytest.mark.rule("C8")
def test_a_partial_return_keeps_the_coupons_used_until_little_is_left(redeemed):
    assert give_back("RET-1", ("mouse", 1), ("care", 1)) == []
    assert statuses(redeemed["codes"]) == ["used", "used"]
    # the laptop back: €0 eligible left, at or below the €60 discount (the insurance is not eligible)
    assert give_back("RET-2", ("laptop", 1)) == redeemed["codes"]
    assert statuses(redeemed["codes"]) == ["active", "active"]
    assert give_back("RET-1", ("mouse", 1), ("care", 1)) == []


@pytest.mark.rule("C8")
def test_a_return_leaving_no_more_than_the_discount_restores_while_lines_are_kept(redeemed):
    # the laptop back, mouse and insurance kept: €15 eligible left, below the €60 discount
    assert give_back("RET-1", ("laptop", 1)) == redeemed["codes"]
    assert statuses(redeemed["codes"]) == ["active", "active"]


@pytest.mark.rule("C8")
def test_a_receipt_without_coupons_restores_nothing(member):
    m = member("m-1", euros=100)
    record_receipt("R-9", m, (make_line("1", 3_000),), "2017-08-10T14:00")
    result, _ = flows.record_return("R-9", "RET-9", AT, [("1", 1)], {"return_id": "RET-9"})
    assert result.coupons_restored == []


@pytest.mark.rule("C2")
def test_the_nightly_run_expires_coupons_after_their_last_day_and_is_rerun_safe(member, monkeypatch):
    m = member("m-1", euros=5000)
    keep = flows.convert_points(m, 2000, "a").coupon
    use = flows.convert_points(m, 4000, "b").coupon
    lapse = flows.convert_points(m, 4000, "c").coupon
    service.redeem("R-1", m, "store", (make_line("tv", 90_000),), [use.code])
    assert keep.expires_on == date(2018, 8, 9)

    def no_scan(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the nightly run must query the expiry index, not scan")

    monkeypatch.setattr(CouponModel, "scan", no_scan)
    assert _expired(coupon_expiry(date(2018, 8, 9))) == (0, 0)
    # a missed night is caught up: everything before the run's date
    assert _expired(coupon_expiry(date(2018, 9, 1))) == (2, 2)
    assert statuses([keep.code, use.code, lapse.code]) == ["expired", "used", "expired"]
    assert _expired(coupon_expiry(date(2018, 9, 1))) == (0, 0)
    assert _expired(nightly.run("nightly_loyalty", date(2018, 9, 2))) == (0, 0)


@pytest.mark.rule("C2", "C8")
def test_a_coupon_restored_after_its_last_day_is_expired_and_caught_by_the_next_run(redeemed, travel):
    travel("2018-09-01T10:00")
    receipt = earning.get_receipt("R-1")
    assert receipt is not None
    gone = replace(receipt, returned={"laptop": 1, "mouse": 1, "care": 1})
    assert service.restore_for_return(ReceiptReturned(gone, "RET-1", AT)) == redeemed["codes"]
    page, _ = flows.list_coupons(redeemed["member"], 50, None)
    assert [s for _, s in page] == ["expired", "expired"]
    assert coupon_expiry(date(2018, 9, 1))["coupons_expired"] == 2
    assert statuses(redeemed["codes"]) == ["expired", "expired"]


@pytest.mark.rule("L13", "C3")
def test_a_merge_moves_the_coupons_to_the_target_account(member):
    source, target = member("m-old", euros=3000), member("m-new")
    kept = flows.convert_points(source, 2000, "a").coupon
    used = flows.convert_points(source, 4000, "b").coupon
    service.redeem("R-1", source, "store", (make_line("tv", 90_000),), [used.code])
    merged = flows.merge(target, source)
    assert sorted(merged.coupons_moved) == sorted([kept.code, used.code])
    page, _ = flows.list_coupons(target, 50, None)
    assert [(c.code, s) for c, s in page] == [(kept.code, "active"), (used.code, "used")]
    assert service.transfer_coupons(source, target) == sorted([kept.code, used.code])
    checked = service.validate(target, "store", (make_line("tv", 90_000),), [kept.code])
    assert checked.discount_cents == 2000
    assert service.validate(source, "store", (make_line("tv", 90_000),), [kept.code]).rejected[0].reason == (
        "NOT_YOUR_COUPON"
    )


@pytest.mark.rule("C8")
def test_a_restore_cancelled_by_a_concurrent_writer_is_retried_and_never_lost(redeemed, monkeypatch):
    real = store.restore
    failures = iter([True, True, True, True, False])

    def flaky(*args: Any, **kwargs: Any) -> None:
        if next(failures):
            raise store.TransactionCancelled(["TransactionConflict"])
        real(*args, **kwargs)

    monkeypatch.setattr(store, "restore", flaky)
    receipt = earning.get_receipt("R-1")
    assert receipt is not None
    gone = replace(receipt, returned={"laptop": 1, "mouse": 1, "care": 1})
    event = ReceiptReturned(gone, "RET-1", AT)
    with pytest.raises(Conflict):
        service.restore_for_return(event)  # three conflicts in a row: the caller retries later
    assert statuses(redeemed["codes"]) == ["used", "used"]
    assert service.restore_for_return(event) == redeemed["codes"]  # one more conflict, then done
    assert statuses(redeemed["codes"]) == ["active", "active"]


def _expired(summary: dict[str, Any]) -> tuple[int, int]:
    """Coupons expired and found due by a night (C2)."""
    return summary["coupons_expired"], summary["coupons_due"]
