"""The load mix of tests/reliability/test_load.py, for `locust --headless` against the local stack.

Three client kinds, each request named "<kind> <METHOD> <route>":
- `member`: the webshop and the app: sign-up, profile, history, coupons, conversions, and trade-in
  claims (the webshop's registration form and the proof's presigned POST to S3);
- `pos`: the stores' systems: receipts (and their replays), returns, coupon validation, redemption;
- `backoffice`: customer care and claim handlers: adjustments, look-ups, lists, claim processing.

A request fails only on a 5xx, a transport error or a status outside what the contract allows for
it (a refused conversion or redemption is traffic, not a failure). At the end the run's own record
(every request's kind, status and time, the members, coupons and claims it made) is written to
$LOAD_RESULTS for the test's figures and its invariant checks.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests
from locust import HttpUser, between, events, task

from chalicelib.auth import mint_dev_token

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SECRET = os.environ["AUTH_DEV_SECRET"]
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f80f0000010101005bd0e1f60000000049454e44ae426082"
)

MEMBERS: list[str] = []
COUPONS: list[tuple[str, str]] = []  # (member_id, code)
RECEIPTS: list[str] = []  # store receipts with a member, for returns
CLAIMS: list[tuple[str, str]] = []  # (claim_number, postcode) waiting for their device
PROCESSED: list[str] = []
REQUESTS: list[tuple[str, int, float, bool]] = []  # (kind, status, milliseconds, failed)


@events.request.add_listener
def record(name: str, response_time: float, response: Any = None, exception: Any = None, **_: Any) -> None:
    status = getattr(response, "status_code", 0) if response is not None else 0
    REQUESTS.append((name.split(" ", 1)[0], int(status or 0), float(response_time), exception is not None))


@events.quitting.add_listener
def write_results(environment: Any, **_: Any) -> None:
    out = {"requests": REQUESTS, "members": MEMBERS, "coupons": COUPONS, "claims_processed": PROCESSED}
    with open(os.environ["LOAD_RESULTS"], "w") as file:
        json.dump(out, file)


def bearer(subject: str, *groups: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_dev_token(subject, list(groups) or None, secret=SECRET)}"}


def now() -> datetime:
    return datetime.now(AMSTERDAM).replace(microsecond=0)


def line(category: str = "tv", price_cents: int = 89_900) -> dict[str, Any]:
    return {"line_id": "1", "sku": f"SKU-{category}", "description": category, "brand": "Lenovo",
            "category": category, "kind": "product", "seller": "retailer", "unit_price_cents": price_cents,
            "quantity": 1}  # fmt: skip


class Client(HttpUser):
    abstract = True
    wait_time = between(0.05, 0.3)
    kind = ""
    headers: dict[str, str] = {}

    def send(
        self,
        method: str,
        route: str,
        path: str,
        allowed: Iterable[int] = (200, 201),
        public: bool = False,
        **kwargs: Any,
    ) -> Any:
        headers = {**({} if public else self.headers), **kwargs.pop("headers", {})}
        name = f"{self.kind} {method} {route}"
        with self.client.request(method, path, name=name, headers=headers, catch_response=True, **kwargs) as answer:
            if answer.status_code not in allowed:
                answer.failure(f"{answer.status_code}: {answer.text[:200]}")
            else:
                answer.success()
        return answer


class Member(Client):
    """The webshop and the app, for one member of their own."""

    weight = 3
    kind = "member"

    def on_start(self) -> None:
        self.sign_up()

    @task(1)
    def sign_up(self) -> None:
        """A new customer on this device: the run touches more members than it has users."""
        self.member_id = f"m-load-{uuid.uuid4().hex[:12]}"
        self.headers = bearer(self.member_id)
        body = {"email": f"{self.member_id}@example.com", "first_name": "Load", "last_name": "Test",
                "newsletter": True, "partner_data_sharing": False}  # fmt: skip
        if self.send("POST", "/members", "/members", json=body).status_code == 201:
            MEMBERS.append(self.member_id)

    @task(4)
    def profile(self) -> None:
        self.send("GET", "/members/me", "/members/me")

    @task(2)
    def history(self) -> None:
        self.send("GET", "/members/me/history", "/members/me/history")

    @task(2)
    def coupons(self) -> None:
        self.send("GET", "/members/me/coupons", "/members/me/coupons")

    @task(3)
    def convert(self) -> None:
        answer = self.send(
            "POST",
            "/members/me/coupons",
            "/members/me/coupons",
            allowed=(201, 422),  # 422 INSUFFICIENT_POINTS until the back office adds some
            json={"amount_cents": random.choice((2000, 4000))},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        if answer.status_code == 201:
            COUPONS.append((self.member_id, answer.json()["code"]))

    @task(1)
    def trade_in(self) -> None:
        """A laptop bought 35 days ago in the webshop, its trade-in claim and the proof's upload."""
        receipt_id = f"WEB-{uuid.uuid4().hex[:12].upper()}"
        receipt = {"channel": "webshop", "purchased_at": (now() - timedelta(days=35)).isoformat(),
                   "lines": [line("laptop")]}  # fmt: skip
        self.send(
            "PUT", "/receipts/{receipt_id}", f"/receipts/{receipt_id}", json=receipt, headers=bearer("shop", "pos")
        )
        campaigns = self.send("GET", "/tradein/campaigns", "/tradein/campaigns", public=True).json()["items"]
        open_now = [c["campaign_id"] for c in campaigns if datetime.fromisoformat(c["starts_at"]) <= now()]
        if not open_now:
            return
        postcode = f"{random.randint(1000, 9999)} AB"
        participant = {"first_name": "Load", "last_name": "Test", "email": f"{uuid.uuid4().hex[:10]}@example.com",
                       "phone": "0612345678", "birth_date": "1985-04-12",
                       "address": {"street": "Kalverstraat", "house_number": random.randint(1, 99_999),
                                   "postcode": postcode, "city": "Amsterdam", "country": "NL"},
                       "iban": "NL91ABNA0417164300", "account_holder": "L. Test"}  # fmt: skip
        old_device = {"brand": "HP", "model": "EliteBook 840", "screen_inches": 14.0,
                      "purchased_on": (now() - timedelta(days=3 * 365)).date().isoformat(), "working": True,
                      "complete": True, "undamaged": True, "battery_ok": True, "charger_included": True}  # fmt: skip
        body = {"campaign_id": open_now[0], "receipt_id": receipt_id, "laptop_line_id": "1",
                "participant": participant, "old_device": old_device, "proof_content_type": "image/png",
                "declarations": {"legal_owner": True, "private_person": True, "not_employee": True,
                                 "data_removed": True}}  # fmt: skip
        answer = self.send("POST", "/tradein/claims", "/tradein/claims", json=body, public=True)
        if answer.status_code != 201:
            return
        claim = answer.json()
        upload = claim["upload"]
        sent = requests.post(upload["url"], data=upload["fields"], files={"file": ("bon.png", PNG)}, timeout=30)
        events.request.fire(
            request_type="POST", name="upload POST (S3 presigned)", response_time=sent.elapsed.total_seconds() * 1000,
            response_length=len(sent.content), response=sent,
            exception=None if sent.status_code in (200, 201, 204) else Exception(sent.text[:200]),
        )  # fmt: skip
        CLAIMS.append((claim["claim_number"], postcode))


class Store(Client):
    """A store's till: receipts for members, their replays and returns, coupons at the counter."""

    weight = 2
    kind = "pos"

    def on_start(self) -> None:
        self.headers = bearer(f"pos-{uuid.uuid4().hex[:6]}", "pos")

    def receipt_body(self, member_id: str, discount_cents: int = 0) -> dict[str, Any]:
        return {"channel": "store", "store_id": "NL-AMS-1", "purchased_at": now().isoformat(),
                "member_id": member_id, "coupon_discount_cents": discount_cents, "lines": [line()]}  # fmt: skip

    @task(4)
    def receipt(self) -> None:
        if not MEMBERS:
            return
        receipt_id = f"POS-{uuid.uuid4().hex[:12].upper()}"
        body = self.receipt_body(random.choice(MEMBERS))
        if self.send("PUT", "/receipts/{receipt_id}", f"/receipts/{receipt_id}", json=body).status_code == 201:
            RECEIPTS.append(receipt_id)
            # the till's retry after a lost answer: the identical replay
            self.send("PUT", "/receipts/{receipt_id}", f"/receipts/{receipt_id}", allowed=(200,), json=body)

    @task(2)
    def give_back(self) -> None:
        if not RECEIPTS:
            return
        receipt_id = RECEIPTS.pop(random.randrange(len(RECEIPTS)))
        body = {"return_id": f"RET-{receipt_id}", "returned_at": now().isoformat(),
                "lines": [{"line_id": "1", "quantity": 1}]}  # fmt: skip
        self.send("POST", "/receipts/{receipt_id}/returns", f"/receipts/{receipt_id}/returns", json=body)

    @task(3)
    def redeem(self) -> None:
        if not COUPONS:
            return
        member_id, code = random.choice(COUPONS)  # several tills may try the same coupon
        basket = {"member_id": member_id, "channel": "store", "lines": [line()], "codes": [code]}
        self.send("POST", "/coupons/validate", "/coupons/validate", json=basket)
        receipt_id = f"POS-{uuid.uuid4().hex[:12].upper()}"
        answer = self.send(
            "POST",
            "/coupons/redeem",
            "/coupons/redeem",
            allowed=(200, 409),  # 409 COUPON_NOT_REDEEMABLE: another till was first
            json={**basket, "receipt_id": receipt_id},
        )
        if answer.status_code == 200:
            discount = answer.json()["discount_cents"]
            body = self.receipt_body(member_id, discount)
            if self.send("PUT", "/receipts/{receipt_id}", f"/receipts/{receipt_id}", json=body).status_code == 201:
                RECEIPTS.append(receipt_id)  # its return restores the coupon (C8)


class BackOffice(Client):
    """Customer care and the claim handlers."""

    weight = 1
    kind = "backoffice"

    def on_start(self) -> None:
        self.headers = bearer(f"bo-{uuid.uuid4().hex[:6]}", "backoffice")

    @task(3)
    def adjust(self) -> None:
        if not MEMBERS:
            return
        member_id = random.choice(MEMBERS[-4:])  # the newest: the members the apps use now
        body = {"adjustment_id": uuid.uuid4().hex, "points": random.choice((2500, 5000)), "reason": "load: goodwill"}
        self.send("POST", "/backoffice/members/{member_id}/adjustments",
                  f"/backoffice/members/{member_id}/adjustments", json=body)  # fmt: skip

    @task(2)
    def look_up(self) -> None:
        if MEMBERS:
            email = f"{random.choice(MEMBERS)}@example.com"
            self.send("GET", "/backoffice/members", "/backoffice/members", params={"email": email})

    @task(2)
    def lists(self) -> None:
        for path in ("/backoffice/claims", "/backoffice/payouts", "/backoffice/jobs/nightly_loyalty/runs"):
            self.send("GET", path, path)

    @task(3)
    def process_claim(self) -> None:
        if not CLAIMS:
            return
        number, postcode = CLAIMS.pop(0)
        seen = self.send("GET", "/backoffice/claims/{claim_number}", f"/backoffice/claims/{number}").json()
        if seen.get("status") != "awaiting_device":  # the proof is still being checked
            CLAIMS.append((number, postcode))
            return
        today = now().date().isoformat()
        self.send("POST", "/backoffice/claims/{claim_number}/device-received",
                  f"/backoffice/claims/{number}/device-received", json={"received_on": today})  # fmt: skip
        self.send("POST", "/backoffice/claims/{claim_number}/inspection", f"/backoffice/claims/{number}/inspection",
                  json={"outcome": "approved"})  # fmt: skip
        PROCESSED.append(number)
