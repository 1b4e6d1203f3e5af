"""A model of one member's ledger, driven through the routes by hypothesis: purchases, returns,
conversions to coupons, redemptions, back-office adjustments and nights (the clock jumps 1-400
days, then the nightly loyalty run). After every step the ledger must hold: available is never
negative, the member's pending and available equal the sums of their lots by status, and every
coupon is in exactly one state, the same in the store and in the member's list.

Each example starts from a fresh moto with every resource provisioned, at 2017-08-10."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import time_machine
from chalice.test import Client
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from moto import mock_aws

from app import app
from chalicelib import nightly
from chalicelib.auth import mint_dev_token
from chalicelib.clock import AMSTERDAM
from chalicelib.coupons.models import CouponModel
from chalicelib.loyalty.models import LotModel
from chalicelib.provision import provision

MEMBER = "m-model"
START = datetime(2017, 8, 10, 14, 0, tzinfo=AMSTERDAM)
EXAMPLES = 200
STEPS = 6
COUPON_STATES = {"active", "used", "expired"}


def _line(line_id: str, price: int, quantity: int = 1, kind: str = "product") -> dict[str, Any]:
    return {
        "line_id": line_id, "sku": f"SKU-{line_id}", "description": "item", "brand": "Acme", "category": "tv",
        "kind": kind, "seller": "retailer", "unit_price_cents": price, "quantity": quantity,
    }  # fmt: skip


def _headers(subject: str, *groups: str, **extra: str) -> dict[str, str]:
    token = mint_dev_token(subject, list(groups) or None, secret=os.environ["AUTH_DEV_SECRET"])
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json", **extra}


class Ledger(RuleBasedStateMachine):
    purchases = Bundle("purchases")
    coupons = Bundle("coupons")
    outcomes: Counter[str] = Counter()  # "redeem 200" -> how often, over all examples

    def __init__(self) -> None:
        super().__init__()
        self.seq = 0
        self.steps = 0
        self.now = START
        self.aws: Any = None
        self.clock: Any = None
        self.client: Any = None

    # -- plumbing -------------------------------------------------------------------------------

    def _travel(self, instant: datetime) -> None:
        if self.clock is not None:
            self.clock.stop()
        self.now = instant
        self.clock = time_machine.travel(instant, tick=False)
        self.clock.start()

    def call(
        self, method: str, path: str, headers: dict[str, str], body: Any = None, kind: str = ""
    ) -> tuple[int, Any]:
        raw = b"" if body is None else json.dumps(body).encode()
        response = self.client.http.request(method, path, headers=headers, body=raw)
        parsed = json.loads(response.body) if response.body else None
        assert response.status_code < 500, (method, path, response.status_code, parsed)
        if kind:
            self.outcomes[f"{kind} {response.status_code}"] += 1
        if response.status_code >= 400:
            assert isinstance(parsed, dict) and {"code", "message"} <= parsed.keys(), parsed
        return response.status_code, parsed

    def next_id(self, prefix: str) -> str:
        self.seq += 1
        return f"{prefix}-{self.seq}"

    @initialize()
    def fresh_world(self) -> None:
        self.aws = mock_aws()
        self.aws.start()
        provision()
        self._travel(START)
        self.client = Client(app, stage_name="test")
        body = {"email": f"{MEMBER}@example.com", "first_name": "Ann", "last_name": "Smit",
                "newsletter": False, "partner_data_sharing": False}  # fmt: skip
        status, answer = self.call("POST", "/members", _headers(MEMBER), body)
        assert status == 201, answer
        # A member with points to convert: event points, available at once (L7), 3 coupons' worth.
        grant = {"adjustment_id": "start", "points": 3000, "reason": "model start"}
        status, answer = self.call(
            "POST", f"/backoffice/members/{MEMBER}/adjustments", _headers("bo-1", "backoffice"), grant
        )
        assert status == 201, answer

    def teardown(self) -> None:
        if self.clock is not None:
            self.clock.stop()
        if self.aws is not None:
            self.aws.stop()

    # -- rules --------------------------------------------------------------------------------

    @rule(target=purchases, euros=st.integers(21, 3000), quantity=st.integers(1, 3), care=st.booleans())
    def purchase(self, euros: int, quantity: int, care: bool) -> str:
        self.steps += 1
        receipt_id = self.next_id("buy")
        lines = [_line("1", euros * 100, quantity)]
        if care:
            lines.append(_line("2", 4_900, 1, kind="insurance"))
        body = {"channel": "store", "purchased_at": self.now.isoformat(), "member_id": MEMBER, "lines": lines}
        status, answer = self.call("PUT", f"/receipts/{receipt_id}", _headers("pos-1", "pos"), body, "purchase")
        assert status == 201, answer
        return receipt_id

    @rule(receipt_id=purchases, line_id=st.sampled_from(["1", "2"]), quantity=st.integers(1, 2))
    def give_back(self, receipt_id: str, line_id: str, quantity: int) -> None:
        self.steps += 1
        body = {"return_id": self.next_id("ret"), "returned_at": self.now.isoformat(),
                "lines": [{"line_id": line_id, "quantity": quantity}]}  # fmt: skip
        status, answer = self.call("POST", f"/receipts/{receipt_id}/returns", _headers("pos-1", "pos"), body, "return")
        assert status in (201, 422), answer
        if status == 422:
            assert answer["code"] in ("RETURN_EXCEEDS_PURCHASE", "VALIDATION_ERROR"), answer

    @rule(target=coupons, amount=st.sampled_from([2000, 4000]))
    def convert(self, amount: int) -> Any:
        self.steps += 1
        headers = _headers(MEMBER, **{"Idempotency-Key": self.next_id("conv")})
        status, answer = self.call("POST", "/members/me/coupons", headers, {"amount_cents": amount}, "convert")
        assert status in (201, 422), answer
        if status == 422:
            assert answer["code"] == "INSUFFICIENT_POINTS", answer
            return multiple()
        return str(answer["code"])

    @rule(code=coupons)
    def redeem(self, code: str) -> None:
        self.steps += 1
        body = {"receipt_id": self.next_id("red"), "member_id": MEMBER, "channel": "store",
                "lines": [_line("1", 50_000)], "codes": [code]}  # fmt: skip
        status, answer = self.call("POST", "/coupons/redeem", _headers("pos-1", "pos"), body, "redeem")
        assert status in (200, 409), answer

    @rule(points=st.integers(-1500, 1500).filter(bool))
    def adjust(self, points: int) -> None:
        self.steps += 1
        body = {"adjustment_id": self.next_id("adj"), "points": points, "reason": "model"}
        status, answer = self.call(
            "POST", f"/backoffice/members/{MEMBER}/adjustments", _headers("bo-1", "backoffice"), body, "adjust"
        )
        assert status in (201, 422), answer
        if status == 422:
            assert points < 0 and answer["code"] == "INSUFFICIENT_POINTS", answer

    @rule(days=st.integers(1, 400))
    def night(self, days: int) -> None:
        self.steps += 1
        self._travel(self.now + timedelta(days=days))
        nightly.run("nightly_loyalty", self.now.date())
        self.outcomes["night"] += 1

    # -- invariants ------------------------------------------------------------------------------

    @invariant()
    def ledger_adds_up(self) -> None:
        if self.client is None:
            return
        status, me = self.call("GET", "/members/me", _headers(MEMBER))
        assert status == 200, me
        lots = list(LotModel.query(MEMBER))
        pending = sum(int(lot.remaining) for lot in lots if lot.status == "pending")
        available = sum(int(lot.remaining) for lot in lots if lot.status == "available")
        assert me["points"]["available"] >= 0, me["points"]
        assert all(int(lot.remaining) >= 0 for lot in lots)
        assert (me["points"]["pending"], me["points"]["available"]) == (pending, available), (me["points"], lots)

    @invariant()
    def coupons_in_one_state(self) -> None:
        if self.client is None:
            return
        stored = {item.code: item for item in CouponModel.member_index.query(MEMBER)}
        status, listed = self.call("GET", "/members/me/coupons?limit=100", _headers(MEMBER))
        assert status == 200, listed
        codes = [c["code"] for c in listed["items"]]
        assert len(codes) == len(set(codes)) == len(stored)
        for coupon in listed["items"]:
            item = stored[coupon["code"]]
            assert item.status in COUPON_STATES and coupon["status"] == item.status, (coupon, item.status)
            assert (item.status == "used") == (item.redeemed_receipt_id is not None), coupon
            assert (item.status == "active") == (item.expiry_shard is not None), coupon


def test_ledger_model(figure: Any) -> None:
    examples: list[int] = []
    steps: list[int] = []

    class Counted(Ledger):
        def teardown(self) -> None:
            examples.append(1)
            steps.append(self.steps)
            super().teardown()

    started = time.monotonic()
    run_state_machine_as_test(
        Counted,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    figure(
        "ledger model",
        examples=len(examples),
        steps=sum(steps),
        seconds=round(time.monotonic() - started, 1),
        outcomes=dict(sorted(Ledger.outcomes.items())),
    )
    assert len(examples) >= EXAMPLES
