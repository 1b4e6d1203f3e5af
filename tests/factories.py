"""Builders of domain values shared by the tests of several domains."""

from __future__ import annotations

from typing import Any

from chalicelib.sales import Line


def make_line(line_id: str = "1", price: int = 10_000, quantity: int = 1, **kw: Any) -> Line:
    """A retailer-sold product line (a laptop unless told otherwise)."""
    values: dict[str, Any] = {
        "line_id": line_id,
        "sku": f"SKU-{line_id}",
        "description": "item",
        "brand": "Acme",
        "category": "laptop",
        "kind": "product",
        "seller": "retailer",
        "unit_price_cents": price,
        "quantity": quantity,
    }
    values.update(kw)
    return Line(**values)
