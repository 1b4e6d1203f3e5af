"""A member signs in, turns points into a coupon (one Idempotency-Key per attempt), sees its QR
code, and registers a receipt that the till did not link to the card."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from tests.browser.stack import Stack

pytestmark = pytest.mark.browser


def _sign_in(page: Any, stack: Stack, sub: str) -> None:
    page.goto(f"{stack.web_url}/mijn.html")
    page.get_by_label("Lidnummer (testaccount)").fill(sub)
    page.get_by_role("button", name="Inloggen als testlid").click()


@pytest.mark.rule("C1", "L10", "L12")
def test_a_member_converts_points_and_sees_the_coupon_as_a_qr_code(page: Any, stack: Stack) -> None:
    sub = f"web-m-{uuid.uuid4().hex[:8]}"
    stack.member_with_points(sub, f"{sub}@example.nl")
    keys: list[str | None] = []
    page.on(
        "request",
        lambda r: (
            keys.append(r.headers.get("idempotency-key"))
            if r.method == "POST" and r.url.endswith("/members/me/coupons")
            else None
        ),
    )

    _sign_in(page, stack, sub)
    page.get_by_role("heading", name="Mijn punten").wait_for()
    page.locator("#points-available").get_by_text("2.549").wait_for()  # 2,299 + 250 welcome points
    page.locator("#history").get_by_text(re.compile("^Aankoop, bon WEB-")).first.wait_for()
    assert "Welkomstpunten" in page.locator("#history").inner_text()

    page.get_by_role("button", name=re.compile("20,00-coupon voor 1.000 punten")).click()
    page.get_by_text(re.compile(r"Uw coupon van €\s20,00 staat klaar")).wait_for()
    page.locator("#points-available").get_by_text("1.549").wait_for()
    assert page.get_by_role("button", name=re.compile("40,00-coupon")).is_disabled()

    coupons = stack.call("GET", "/members/me/coupons", stack.token(sub, "member")).json()["items"]
    assert len(coupons) == 1
    code = coupons[0]["code"]
    card = page.locator(f'li.coupon[data-code="{code}"]')
    qr = card.get_by_role("img", name=f"QR-code van coupon {code}")
    qr.locator("svg").wait_for()  # the coupon list is drawn after the conversion's answer
    assert qr.locator("svg").count() == 1
    box = qr.locator("svg").bounding_box()
    assert box and box["width"] >= 150, "big enough to scan at the till"
    assert "Geldig" in card.inner_text() and "Geldig tot en met" in card.inner_text()
    assert len(keys) == 1 and keys[0], "the conversion carries an Idempotency-Key"

    # a second conversion is a new attempt with a new key
    page.get_by_role("button", name=re.compile("20,00-coupon voor 1.000 punten")).click()
    page.locator("#points-available").get_by_text("549", exact=True).wait_for()
    assert len(keys) == 2 and keys[1] and keys[0] != keys[1]
    page.locator("li.coupon").nth(1).wait_for()
    assert page.locator("li.coupon").count() == 2


@pytest.mark.rule("L5")
def test_a_member_registers_a_receipt(page: Any, stack: Stack) -> None:
    sub = f"web-r-{uuid.uuid4().hex[:8]}"
    member = stack.token(sub, "member")
    joined = stack.call(
        "POST",
        "/members",
        member,
        json={
            "email": f"{sub}@example.nl",
            "first_name": "Jan",
            "last_name": "Jansen",
            "newsletter": False,
            "partner_data_sharing": False,
        },
    )
    assert joined.status_code == 201
    receipt_id = stack.laptop_receipt(days_ago=3)

    _sign_in(page, stack, sub)
    page.get_by_role("heading", name="Mijn kassabonnen").wait_for()
    page.get_by_label("Bonnummer").fill("BESTAAT-NIET")
    page.get_by_role("button", name="Kassabon registreren").click()
    page.get_by_text("Wij kennen geen aankoop met dit bonnummer").wait_for()

    page.get_by_label("Bonnummer").fill(receipt_id)
    page.get_by_role("button", name="Kassabon registreren").click()
    page.get_by_text(f"Kassabon {receipt_id} is geregistreerd: 899 punten").wait_for()
    page.locator("#receipts").get_by_text(receipt_id).wait_for()
    page.locator("#points-pending").get_by_text("899", exact=True).wait_for()
