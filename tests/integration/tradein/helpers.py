"""Shared helpers of the trade-in tests: receipts through the POS route, registration bodies,
proof uploads through S3 and the `on_proof_uploaded` handler, the e-mails moto's SES kept."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from chalice.test import Client
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from chalicelib.config import settings
from chalicelib.db import client as aws_client

CAMPAIGN = "meer-laptop-2017"
PURCHASED_AT = "2017-08-10T14:00:00+02:00"  # day 1; the window is 2017-09-08 .. 2017-10-08
IN_WINDOW = "2017-09-12T10:00"  # a Tuesday
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64

LAPTOP = {
    "line_id": "1",
    "sku": "LT-1",
    "description": "Laptop 15 inch",
    "brand": "Lenovo",
    "category": "laptop",
    "kind": "product",
    "seller": "retailer",
    "unit_price_cents": 79900,
    "quantity": 1,
}

PARTICIPANT: dict[str, Any] = {
    "first_name": "Jan",
    "last_name": "Jansen",
    "email": "jan.jansen@example.nl",
    "phone": "0612345678",
    "birth_date": "1980-05-17",
    "address": {
        "street": "Damstraat",
        "house_number": 12,
        "house_number_suffix": "a",
        "postcode": "1012 JS",
        "city": "Amsterdam",
        "country": "NL",
    },
    "iban": "NL91ABNA0417164300",
    "account_holder": "J. Jansen",
}

OLD_DEVICE = {
    "brand": "Dell",
    "model": "XPS 13",
    "screen_inches": 13.3,
    "purchased_on": "2014-03-01",
    "working": True,
    "complete": True,
    "undamaged": True,
    "battery_ok": True,
    "charger_included": True,
}

Api = Callable[..., Any]

DECLARATIONS = {"legal_owner": True, "private_person": True, "not_employee": True, "data_removed": True}


def receipt_body(purchased_at: str = PURCHASED_AT, channel: str = "store", **line: Any) -> dict[str, Any]:
    return {
        "channel": channel,
        "store_id": "NL-AMS-1" if channel == "store" else None,
        "purchased_at": purchased_at,
        "lines": [{**LAPTOP, **line}],
    }


def registration(receipt_id: str, campaign_id: str = CAMPAIGN, **changes: Any) -> dict[str, Any]:
    """A valid registration body; `participant={...}` etc. are merged one level deep."""
    body: dict[str, Any] = {
        "campaign_id": campaign_id,
        "receipt_id": receipt_id,
        "laptop_line_id": "1",
        "participant": copy.deepcopy(PARTICIPANT),
        "old_device": dict(OLD_DEVICE),
        "declarations": dict(DECLARATIONS),
    }
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(body.get(key), dict):
            body[key].update(value)
        else:
            body[key] = value
    return body


def other_address(n: int) -> dict[str, Any]:
    return {**PARTICIPANT["address"], "house_number": 100 + n, "house_number_suffix": None}


class Driver:
    """Drives the trade-in through its real entry points: routes, the S3 handler, the nightly job."""

    def __init__(self, client: Client, api: Api, auth: Callable[..., dict[str, str]]):
        self.client = client
        self.api = api
        self.auth = auth  # tokens are minted per call: the tests travel in time
        self.public = {"Content-Type": "application/json"}

    def receipt(self, receipt_id: str, **kw: Any) -> None:
        status, body = self.api("PUT", f"/receipts/{receipt_id}", self.auth("pos-1", "pos"), receipt_body(**kw))
        assert status in (200, 201), body

    def register(self, receipt_id: str, **changes: Any) -> tuple[int, Any]:
        return self.api("POST", "/tradein/claims", self.public, registration(receipt_id, **changes))

    def claim_for(self, receipt_id: str, **changes: Any) -> str:
        self.receipt(receipt_id)
        status, body = self.register(receipt_id, **changes)
        assert status == 201, body
        return str(body["claim_number"])

    def upload(self, claim_number: str, content: bytes = PDF, name: str = "bon.pdf") -> dict[str, Any]:
        key = f"proofs/{claim_number}/{name}"
        aws_client("s3").put_object(Bucket=settings().proofs_bucket, Key=key, Body=content)
        return self.deliver(key)

    def deliver(self, key: str) -> dict[str, Any]:
        event = self.client.events.generate_s3_event(settings().proofs_bucket, key)
        return dict(self.client.lambda_.invoke("on_proof_uploaded", event).payload)

    def track(self, claim_number: str, postcode: str = "1012JS") -> tuple[int, Any]:
        return self.api("GET", f"/tradein/claims/{claim_number}?postcode={postcode}")

    def bo(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return self.api(method, path, self.auth("bo-1", "backoffice"), body)

    def nightly(self, day: str) -> dict[str, Any]:
        from tests.nights import tradein_night

        return tradein_night(date.fromisoformat(day))


def sent_messages() -> list[Any]:
    return list(ses_backends[DEFAULT_ACCOUNT_ID][settings().aws_region].sent_messages)


def subjects() -> list[str]:
    return [m.subject for m in sent_messages()]


def claim(claim_number: str) -> Any:
    from chalicelib.tradein import store

    return store.get_claim(claim_number)


@pytest.fixture
def tradein(client: Any, api: Any, auth: Callable[..., dict[str, str]], travel: Any) -> Driver:
    """The seed's campaign, created through the back office's PUT with every term left to its
    default, the clock inside the 2017 claim's registration window, a driver."""
    travel(IN_WINDOW)
    driver = Driver(client, api, auth)
    status, body = driver.bo("PUT", f"/backoffice/campaigns/{CAMPAIGN}", {})
    assert status == 201, body
    return driver
