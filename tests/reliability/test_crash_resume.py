"""Crash and resume: for every write path, a fault at the k-th AWS call for every k, before the
call takes effect and after it took effect; the caller retries (as every client of the contract
may), and the state then equals an uninterrupted run's: points, history, receipts, coupons,
claims and e-mails sent. Each case runs on its own member or claim, so one moto serves them all."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.tradein.helpers import PDF, other_address, sent_messages
from tests.reliability.faults import FORMS, install

POS = ("pos-1", "pos")
BO = ("bo-1", "backoffice")


def product(price: int) -> dict[str, Any]:
    return {
        "line_id": "1", "sku": "SKU-1", "description": "item", "brand": "Acme", "category": "tv",
        "kind": "product", "seller": "retailer", "unit_price_cents": price, "quantity": 1,
    }  # fmt: skip


def scrub(value: Any, n: int) -> Any:
    """The state with the case's own ids, instants and random codes taken out."""
    text = json.dumps(value, sort_keys=True)
    text = re.sub(rf"(?<![0-9])c{n}(?![0-9])", "N", text)
    text = re.sub(r'"(at|registered_at|issued_at|created_at|updated_at)": "[^"]*"', r'"\1": "T"', text)
    text = re.sub(r'"(code|claim_number|card_number)": "[^"]*"', r'"\1": "X"', text)
    text = re.sub(r"coupon:[A-Z0-9]+", "coupon:X", text)
    text = re.sub(r"P\d{8}-[0-9A-F]+", "BATCH", text)
    return json.loads(text)


class Loyalty:
    """Member-side scenarios through the routes."""

    def __init__(self, api: Callable[..., Any], auth: Callable[..., dict[str, str]]) -> None:
        self.api, self.auth = api, auth
        self.codes: dict[int, str] = {}

    def join(self, n: int, euros: int = 0) -> None:
        body = {"email": f"c{n}@example.com", "first_name": "Ann", "last_name": "Smit"}
        status, _ = self.api("POST", "/members", self.auth(f"c{n}"), {**body, "newsletter": False,
                                                                        "partner_data_sharing": False})  # fmt: skip
        assert status == 201
        if euros:
            receipt = {"channel": "store", "purchased_at": "2017-07-01T12:00:00+02:00", "member_id": f"c{n}",
                       "lines": [product(euros * 100)]}  # fmt: skip
            assert self.api("PUT", f"/receipts/earn-c{n}", self.auth(*POS), receipt)[0] == 201

    def state(self, n: int) -> Any:
        member = self.auth(f"c{n}")
        views = {p: self.api("GET", p, member) for p in ("/members/me", "/members/me/coupons",
                                                           "/members/me/receipts")}  # fmt: skip
        views["history"] = self.api("GET", "/members/me/history?limit=100", member)
        return scrub(views, n)

    def convert(self, n: int) -> int:
        headers = {**self.auth(f"c{n}"), "Idempotency-Key": f"conv-c{n}"}
        return int(self.api("POST", "/members/me/coupons", headers, {"amount_cents": 2000})[0])

    def coupon(self, n: int) -> str:
        if n not in self.codes:
            self.codes[n] = str(self.api("GET", "/members/me/coupons", self.auth(f"c{n}"))[1]["items"][0]["code"])
        return self.codes[n]

    def pick_coupon(self, n: int) -> int:
        self.coupon(n)
        return 200

    def redeem(self, n: int) -> int:
        body = {"receipt_id": f"buy-c{n}", "member_id": f"c{n}", "channel": "store", "lines": [product(50_000)],
                "codes": [self.coupon(n)]}  # fmt: skip
        return int(self.api("POST", "/coupons/redeem", self.auth(*POS), body)[0])

    def purchase(self, n: int) -> int:
        receipt = {"channel": "store", "purchased_at": "2017-08-10T12:00:00+02:00", "member_id": f"c{n}",
                   "coupon_discount_cents": 2000, "lines": [product(50_000)]}  # fmt: skip
        return int(self.api("PUT", f"/receipts/buy-c{n}", self.auth(*POS), receipt)[0])

    def give_back(self, n: int) -> int:
        body = {"return_id": f"ret-c{n}", "returned_at": "2017-08-11T12:00:00+02:00",
                "lines": [{"line_id": "1", "quantity": 1}]}  # fmt: skip
        return int(self.api("POST", f"/receipts/buy-c{n}/returns", self.auth(*POS), body)[0])


LOYALTY: dict[str, tuple[list[str], str]] = {
    # scenario: (steps before the action, the action)
    "receipt PUT": ([], "purchase"),
    "conversion": ([], "convert"),
    "redeem": (["convert", "pick_coupon"], "redeem"),
    "return with a coupon": (["convert", "pick_coupon", "redeem", "purchase"], "give_back"),
}


def exercise(
    n_cases: Callable[[int], None],
    act: Callable[[int], int],
    state: Callable[[int], Any],
    figure: Any,
    name: str,
    settle: Callable[[], Any] = lambda: None,
) -> None:
    """Reference run on case 0, then every k in both forms; each retried once after the fault."""
    faults = install()
    faults.arm(None)
    n_cases(0)
    mails = len(sent_messages())  # the action's own e-mails, as each case counts them
    faults.arm(10**9)  # count the action's calls
    assert act(0) in (200, 201)
    calls = list(faults.calls)
    faults.arm(None)
    settle()
    reference = state(0)
    reference_mails = len(sent_messages()) - mails
    assert calls, "the action made no AWS call"
    cases, mismatches, n, known_window = 0, [], 0, 0
    for k in range(1, len(calls) + 1):
        for form in FORMS:
            n += 1
            n_cases(n)
            before = len(sent_messages())
            faults.arm(k, form)
            first = act(n)
            faults.arm(None)
            retried = act(n)
            settle()
            got = state(n)
            cases += 1
            mails_sent = len(sent_messages()) - before
            if (calls[k - 1], form) == ("ses.SendEmail", "after"):
                # The one window docs/tradein.md names: SES took the e-mail and its answer was
                # lost, so the sender cannot tell it from a refusal and sends it again.
                known_window += mails_sent == reference_mails + 1
                mails_sent = min(mails_sent, reference_mails)
                got = {**got, "mails": reference.get("mails")} if isinstance(got, dict) else got
            if retried not in (200, 201) or got != reference or mails_sent != reference_mails:
                mismatches.append({"k": k, "call": calls[k - 1], "form": form, "first": first, "retry": retried,
                                   "mails": len(sent_messages()) - before, "diff": _diff(reference, got)})  # fmt: skip
    figure(
        f"crash/resume {name}",
        aws_calls=len(calls),
        cases=cases,
        mismatches=len(mismatches),
        known_window_duplicates=known_window,
    )
    figure("crash/resume injection points", **{name.replace(" ", "_"): "|".join(calls)})
    assert not mismatches, json.dumps(mismatches, indent=1, default=str)


def _diff(a: Any, b: Any) -> Any:
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: _diff(a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) != b.get(k)}
    return {"want": a, "got": b}


@pytest.mark.parametrize("name", list(LOYALTY))
def test_loyalty_write_resumes_after_a_fault_at_every_call(name, api, auth, travel, figure):
    travel("2017-08-10T14:00")
    flows = Loyalty(api, auth)
    steps, action = LOYALTY[name]

    def prepare(n: int) -> None:
        for step in steps:
            assert getattr(flows, step)(n) in (200, 201), step

    # Members with matured points for every case, matured by one nightly run.
    for n in range(80):
        flows.join(n, euros=1000)
    from chalicelib import clock
    from tests.nights import loyalty_night

    loyalty_night(clock.today())
    exercise(prepare, getattr(flows, action), flows.state, figure, name)


TRADEIN = {
    "claim registration": ([], "register"),
    "on_proof_uploaded": (["register", "put_proof"], "deliver"),
    "inspection": (["register", "put_proof", "deliver", "received"], "inspect"),
}


class Claims:
    def __init__(self, driver: Any) -> None:
        self.d = driver
        self.numbers: dict[int, str] = {}

    def receipt(self, n: int) -> int:
        self.d.receipt(f"R-c{n}")
        return 201

    def register(self, n: int) -> int:
        status, body = self.d.register(f"R-c{n}", participant={"address": other_address(n),
                                                               "email": f"c{n}@example.nl"})  # fmt: skip
        if status in (200, 201):
            self.numbers[n] = body["claim_number"]
        return int(status)

    def put_proof(self, n: int) -> int:
        from chalicelib.config import settings
        from chalicelib.db import client

        client("s3").put_object(Bucket=settings().proofs_bucket, Key=self.key(n), Body=PDF + f"% case {n}\n".encode())
        return 200

    def key(self, n: int) -> str:
        return f"proofs/{self.numbers[n]}/bon.pdf"

    def deliver(self, n: int) -> int:
        try:
            self.d.deliver(self.key(n))
        except Exception:
            return 500
        return 200

    def received(self, n: int) -> int:
        return int(self.d.bo("POST", f"/backoffice/claims/{self.numbers[n]}/device-received",
                             {"received_on": "2017-09-12"})[0])  # fmt: skip

    def inspect(self, n: int) -> int:
        return int(self.d.bo("POST", f"/backoffice/claims/{self.numbers[n]}/inspection", {"outcome": "approved"})[0])

    def nightly(self) -> None:
        """The next nightly run retries what a fault left undone (pending e-mails, items)."""
        self.d.nightly("2017-09-12")

    def state(self, n: int) -> Any:
        status, found = self.d.bo("GET", f"/backoffice/claims?q=R-c{n}")
        assert status == 200
        claims = []
        for item in found["items"]:
            _, claim = self.d.bo("GET", f"/backoffice/claims/{item['claim_number']}")
            claim.pop("proof", None)  # a presigned link: signed at each read
            claim.pop("flags", None)  # velocity flags grow with the cases' shared IP
            claim["timeline"] = [e for e in claim["timeline"] if e.get("event") != "flag"]
            claims.append(claim)
        mails = [m.subject for m in sent_messages() if f"c{n}@example.nl" in m.destinations["ToAddresses"]]
        text = json.dumps({"claims": claims, "mails": mails}).replace(self.numbers.get(n, "-"), "X")
        return scrub(json.loads(text), n)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("claim registration"),
        pytest.param("on_proof_uploaded"),
        pytest.param("inspection"),
    ],
)
def test_tradein_write_resumes_after_a_fault_at_every_call(name, tradein, figure):
    flows = Claims(tradein)
    steps, action = TRADEIN[name]

    def prepare(n: int) -> None:
        for step in ["receipt", *steps]:
            assert getattr(flows, step)(n) in (200, 201), step

    # The nightly of one date runs once, so only the upload handler's cases are settled by it.
    settle = flows.nightly if name == "on_proof_uploaded" else (lambda: None)
    exercise(prepare, getattr(flows, action), flows.state, figure, name, settle)
