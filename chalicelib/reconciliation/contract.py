"""The reconciliation and liability routes as contract data."""

from __future__ import annotations

from chalicelib.contract import PAGED, Operation, Page, Param
from chalicelib.reconciliation import responses as r

TAG = "operations"
DATE = Param("date", {"type": "string", "format": "date"}, True, "The run's as_of.")

LIABILITY = "The snapshot the nightly_loyalty (points, coupons) and nightly_tradein (claims) runs of that date left."

OPERATIONS = (
    Operation(
        "GET", "/backoffice/reconciliation", "listMismatches",
        "The mismatches the nightly reconciliation of a date found (never repaired by it)", TAG,
        {200: (Page[r.Mismatch | r.ClaimMismatch], "One page of mismatches.")}, ("backoffice",), params=(DATE, *PAGED),
        errors={400: "INVALID_REQUEST (date), INVALID_LIMIT, INVALID_CURSOR"},
    ),
    Operation(
        "GET", "/backoffice/reports/liability", "liabilityReport",
        "Liability of a night: points at the coupon rate, unredeemed coupons, unpaid claims; with its CSV", TAG,
        {200: (r.LiabilityReport, LIABILITY)}, ("backoffice",),
        params=(DATE,), errors={400: "INVALID_REQUEST (date)", 404: "REPORT_NOT_FOUND"},
    ),
)  # fmt: skip
