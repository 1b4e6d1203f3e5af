"""Fixtures of the loyalty contract tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def receipt_body(member_id: str | None = None, **kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "store",
        "store_id": "S-001",
        "purchased_at": "2017-08-10T14:03:00+02:00",
        "lines": [
            {
                "line_id": "1",
                "sku": "LAP-1",
                "description": "Laptop 15 inch",
                "brand": "Acme",
                "category": "laptop",
                "kind": "product",
                "seller": "retailer",
                "unit_price_cents": 64_900,
                "quantity": 1,
            },
            {
                "line_id": "2",
                "sku": "CARE-1",
                "description": "Care pack",
                "brand": "Acme",
                "category": "service",
                "kind": "insurance",
                "seller": "retailer",
                "unit_price_cents": 9_900,
                "quantity": 1,
            },
        ],
    }
    if member_id is not None:
        body["member_id"] = member_id
    body.update(kw)
    return body


@pytest.fixture
def joined(api: Callable[..., Any], auth: Callable[..., dict[str, str]], travel: Callable[..., Any]) -> Any:
    """joined("m-1") signs a member up through the API on 2017-08-10 and returns the headers."""
    travel("2017-08-10T12:00")

    def join(member_id: str = "m-1", sharing: bool = False) -> dict[str, str]:
        headers = auth(member_id)
        body = {
            "email": f"{member_id}@example.com",
            "first_name": "Ann",
            "last_name": "Smit",
            "newsletter": True,
            "partner_data_sharing": sharing,
        }
        status, answer = api("POST", "/members", headers, body)
        assert status == 201, answer
        return headers

    return join
