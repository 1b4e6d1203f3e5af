"""Finance sees the liability of a night as a chart (points, coupons, claims, in euro) with its
numbers and CSV, and what the nightly reconciliation found: here a lot written behind the
ledger's back in the local stack's DynamoDB (moto server), listed, never repaired."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest

from tests.browser.conftest import axe_violations
from tests.browser.stack import Stack

pytestmark = pytest.mark.browser
BO = ("web-tests-finance", "backoffice")


def _run_night(stack: Stack, job: str) -> None:
    token = stack.token(*BO)
    started = stack.call("POST", f"/backoffice/jobs/{job}/runs", token, json={})
    assert started.status_code in (200, 202), started.text
    run_id = started.json()["run_id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run = stack.call("GET", f"/backoffice/jobs/{job}/runs/{run_id}", token).json()
        if run["status"] != "running":
            assert run["status"] == "done", run
            return
        time.sleep(0.3)
    raise AssertionError(f"{job} did not finish")


def _sneak_in_a_lot(stack: Stack, member_id: str, points: int) -> None:
    """A lot nobody earned: no balance change, no history entry (the reconciliation must see it)."""
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=stack.moto_url,
        region_name="eu-west-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    [lots] = [t for t in dynamodb.list_tables()["TableNames"] if t.endswith("loyalty-lots")]
    day = datetime.now(ZoneInfo("Europe/Amsterdam")).date().isoformat()
    item = {
        "member_id": {"S": member_id},
        "lot_id": {"S": "sneaked#1"},
        "source": {"S": "nobody"},
        "kind": {"S": "event"},
        "points": {"N": str(points)},
        "remaining": {"N": str(points)},
        "earned_on": {"S": day},
        "matures_on": {"S": day},
        "expires_on": {"S": "2099-01-01"},
        "status": {"S": "available"},
    }
    dynamodb.put_item(TableName=lots, Item=item)


def test_finance_sees_the_liability_chart_and_the_reconciliation_findings(page: Any, stack: Stack) -> None:
    member = "web-tests-finance-member"
    stack.member_with_points(member, "finance.member@example.nl")  # runs tonight's nightly_loyalty once
    converted = stack.call(
        "POST",
        "/members/me/coupons",
        stack.token(member, "member"),
        headers={"Idempotency-Key": "finance-1"},
        json={"amount_cents": 2000},
    )
    assert converted.status_code == 201, converted.text
    _sneak_in_a_lot(stack, member, 75)
    _run_night(stack, "nightly_loyalty")  # a rerun of tonight: the coupon, the sneaked lot
    _run_night(stack, "nightly_tradein")
    report = stack.call("GET", f"/backoffice/reports/liability?date={_today()}", stack.token(*BO)).json()
    assert report["complete"] and report["coupons"]["issued_unredeemed"] >= 1

    page.goto(f"{stack.web_url}/backoffice.html")
    page.get_by_role("button", name="Inloggen als medewerker").click()
    page.get_by_role("tab", name="Financiën").click()
    page.get_by_label("Datum van de nacht").fill(_today())
    page.get_by_role("button", name="Rapport tonen").click()

    chart = page.get_by_role("img", name=f"Verplichtingen per soort op {_dutch(_today())}")
    chart.wait_for()
    bars = chart.locator("g.bar")
    assert bars.count() == 4
    coupon_bar = chart.locator('g.bar[data-part="coupons"]')
    assert coupon_bar.get_attribute("data-cents") == str(report["coupons"]["value_cents"])
    assert float(coupon_bar.locator("rect").get_attribute("width") or 0) > 0  # drawn to scale, not empty
    assert "€" in (coupon_bar.text_content() or "")
    table = page.locator("#liability-table")
    assert table.get_by_role("row", name="Coupons uitgegeven, niet ingewisseld").count() == 1
    assert page.get_by_role("link", name=f"CSV downloaden ({_today()})").get_attribute("href")
    total = page.locator("#liability-total").inner_text()
    assert total.replace("\u00a0", " ").startswith("€")

    finding = page.locator("#findings tr", has_text=f"Lid {member} (sneaked#1)")
    finding.first.wait_for()
    assert page.locator("#findings tr", has_text="Punten zonder herkomst in de historie").count() == 1
    assert page.get_by_role("button", name="Meer bevindingen").is_hidden()  # one page only
    assert axe_violations(page) == []  # the chart is an img with its title, the table has headers


def _today() -> str:
    return datetime.now(ZoneInfo("Europe/Amsterdam")).date().isoformat()


def _dutch(iso: str) -> str:
    months = [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ]
    day = datetime.fromisoformat(iso)
    return f"{day.day} {months[day.month - 1]} {day.year}"
