"""GET /backoffice/reconciliation?date=: what the nightly reconciliation of a date found."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib import pager
from chalicelib.auth import require
from chalicelib.http import json_response, limit_param, query
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:  # loaded at the first request that uses them (chalicelib/lazy.py)
    from chalicelib.reconciliation import liability, responses, service
else:
    liability = lazy_module("chalicelib.reconciliation.liability")
    responses = lazy_module("chalicelib.reconciliation.responses")
    service = lazy_module("chalicelib.reconciliation.service")

bp = Blueprint(__name__)


@bp.route("/backoffice/reconciliation", methods=["GET"])
def reconciliation_findings() -> Response:
    request = bp.current_request
    require(request, "backoffice")
    limit = limit_param(request, default=50, maximum=200)
    day = query(request, "date")
    scope = f"reconciliation:{day}"
    items, last = service.findings(day, limit, pager.decode(query(request, "cursor"), scope))
    shown = [_finding(item) for item in items]
    return json_response({"items": shown, "next_cursor": pager.encode(last, scope)})


@bp.route("/backoffice/reports/liability", methods=["GET"])
def liability_report() -> Response:
    request = bp.current_request
    require(request, "backoffice")
    report = responses.LiabilityReport(**liability.liability_report(query(request, "date")))
    return json_response(report.model_dump(mode="json", exclude_unset=True))


def _finding(item: dict[str, Any]) -> dict[str, Any]:
    """A member's finding or a claim's (or payout batch's) finding, as the contract shows it."""
    model = responses.Mismatch if "member_id" in item else responses.ClaimMismatch
    return model(**item).model_dump(mode="json", exclude_unset=True)
