"""Fixtures of the coupons API tests: members with points, made through the loyalty routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

NOW = "2017-08-10T14:00"
POS = ("pos-1", "pos")


def line(line_id: str = "1", price: int = 10_000, kind: str = "product", **kw: Any) -> dict[str, Any]:
    return {
        "line_id": line_id,
        "sku": f"SKU-{line_id}",
        "description": kw.pop("description", "item"),
        "brand": kw.pop("brand", "Acme"),
        "category": kw.pop("category", "laptop"),
        "kind": kind,
        "seller": kw.pop("seller", "retailer"),
        "unit_price_cents": price,
        "quantity": kw.pop("quantity", 1),
    }


@pytest.fixture
def member(
    api: Callable[..., Any],
    auth: Callable[..., dict[str, str]],
    travel: Callable[..., Any],
    run_job: Callable[..., Any],
) -> Callable[..., str]:
    """member("m-1", euros=1000): signed up (250 welcome points) and, with `euros`, a purchase of
    that amount 40 days ago matured by the nightly run: 250 + euros points available."""
    travel(NOW)

    def make(member_id: str = "m-1", euros: int = 0) -> str:
        body = {"email": f"{member_id}@example.com", "first_name": "Ann", "last_name": "Smit"}
        status, _ = api(
            "POST", "/members", auth(member_id), {**body, "newsletter": False, "partner_data_sharing": False}
        )
        assert status == 201
        if euros:
            receipt = {
                "channel": "store",
                "purchased_at": "2017-07-01T12:00:00+02:00",
                "member_id": member_id,
                "lines": [line("1", euros * 100)],
            }
            status, _ = api("PUT", f"/receipts/earn-{member_id}", auth(*POS), receipt)
            assert status == 201
            assert run_job("nightly_loyalty")["status"] == "done"
        return member_id

    return make
