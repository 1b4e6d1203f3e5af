"""The reconciliation and liability routes as contract data."""

from __future__ import annotations

from chalicelib.contract import PAGED, Operation, Page, Param
from chalicelib.reconciliation import responses as r

TAG = "operations"
DATE = Param("date", {"type": "string", "format": "date"}, True, "The run's as_of.")

OPERATIONS = (
    Operation(
        "GET", "/backoffice/reconciliation", "listMismatches",
        "The mismatches the nightly reconciliation of a date found (never repaired by it)", TAG,
        {200: (Page[r.Mismatch], "One page of mismatches.")}, ("backoffice",), params=(DATE, *PAGED),
        errors={400: "INVALID_REQUEST (date), INVALID_LIMIT, INVALID_CURSOR"},
    ),
    Operation(
        "GET", "/backoffice/reports/liability", "liabilityReport",
        "Points liability of a night (outstanding points valued at the coupon rate), with its CSV", TAG,
        {200: (r.LiabilityReport, "The snapshot the nightly_loyalty run of that date left.")}, ("backoffice",),
        params=(DATE,), errors={400: "INVALID_REQUEST (date)", 404: "REPORT_NOT_FOUND"},
    ),
)  # fmt: skip
