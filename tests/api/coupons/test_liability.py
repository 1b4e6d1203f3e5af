"""The coupons' part of the points liability (issue 16): issued coupons not yet redeemed nor
expired, at face value, kept by the nightly `coupon_liability:<n>` units from the coupons whose
status changed (index `changed-index`), never a scan. After each night the report equals a
brute-force sum over the coupons table, and a rerun of a night counts nothing twice."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from chalicelib.config import settings
from chalicelib.coupons.models import CouponModel
from chalicelib.db import client as aws_client
from tests.api.coupons.conftest import POS, line

BO = ("bo-ops", "backoffice")
BASKET = [line("1", 50_000), line("2", 4_900, kind="insurance")]


def _convert(api: Any, auth: Any, member_id: str, amount: int, key: str) -> str:
    status, coupon = api(
        "POST", "/members/me/coupons", auth(member_id) | {"Idempotency-Key": key}, {"amount_cents": amount}
    )
    assert status == 201, coupon
    return str(coupon["code"])


def _brute_force() -> dict[str, int]:
    """What the liability must say: every active coupon in the table (a scan, test only)."""
    owed = [int(c.amount_cents) for c in CouponModel.scan() if c.status == "active"]
    return {"issued_unredeemed": len(owed), "value_cents": sum(owed)}


def _coupons_part(api: Any, auth: Any, day: str) -> dict[str, int]:
    status, report = api("GET", f"/backoffice/reports/liability?date={day}", auth(*BO))
    assert status == 200, report
    return dict(report["coupons"])


@pytest.mark.rule("C1", "C2", "C7")
def test_the_coupon_liability_follows_issues_redemptions_and_expiries_night_by_night(
    api, auth, member, travel, run_job, monkeypatch
):
    one, two = member("m-1", euros=1000), member("m-2", euros=3000)
    _convert(api, auth, one, 2000, "k-1")
    forty = _convert(api, auth, two, 4000, "k-2")
    _convert(api, auth, two, 2000, "k-3")
    travel("2017-08-11T03:00")

    run_job("nightly_loyalty", "2017-08-11")

    assert _coupons_part(api, auth, "2017-08-11") == _brute_force() == {"issued_unredeemed": 3, "value_cents": 8000}

    travel("2017-08-12T15:00")
    body = {"receipt_id": "R-1", "member_id": two, "channel": "store", "lines": BASKET, "codes": [forty]}
    assert api("POST", "/coupons/redeem", auth(*POS), body)[0] == 200
    travel("2017-08-13T03:00")
    quiet: list[str] = []
    monkeypatch.setattr("chalicelib.coupons.store.get_coupon", _counting(quiet))

    run_job("nightly_loyalty", "2017-08-13")

    assert _coupons_part(api, auth, "2017-08-13") == _brute_force() == {"issued_unredeemed": 2, "value_cents": 4000}
    assert quiet == [forty]  # only the coupon that changed on the checked days is read
    run_job("nightly_loyalty", "2017-08-13")  # a rerun moves nothing
    assert _coupons_part(api, auth, "2017-08-13") == {"issued_unredeemed": 2, "value_cents": 4000}
    monkeypatch.undo()

    travel("2018-08-12T03:00")  # a year on: the two left expired after their last day (C2)
    run_job("nightly_loyalty", "2018-08-12")

    assert _coupons_part(api, auth, "2018-08-12") == _brute_force() == {"issued_unredeemed": 0, "value_cents": 0}
    run_job("nightly_tradein", "2018-08-12")  # the claims' part: the night's CSV is complete
    status, report = api("GET", "/backoffice/reports/liability?date=2018-08-12", auth(*BO))
    assert (status, report["complete"]) == (200, True)
    assert report["total_value_cents"] == report["value_cents"]  # points only: no coupon, no claim owed
    body_csv = aws_client("s3").get_object(Bucket=settings().proofs_bucket, Key="reports/liability/2018-08-12.csv")
    rows = list(csv.reader(io.StringIO(body_csv["Body"].read().decode())))
    assert ["2018-08-12", "coupons_issued_unredeemed", "", "", "0", "0"] in rows
    assert ["2018-08-12", "total", "", "", str(report["total_value_cents"]), ""] in rows


def _counting(read: list[str]) -> Any:
    from chalicelib.coupons import store

    real = store.get_coupon

    def get_coupon(code: str) -> Any:
        read.append(code)
        return real(code)

    return get_coupon
