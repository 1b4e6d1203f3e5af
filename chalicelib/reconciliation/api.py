"""GET /backoffice/reconciliation?date=: what the nightly reconciliation of a date found."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.auth import require
from chalicelib.http import decode_cursor, encode_cursor, json_response, limit_param, query
from chalicelib.reconciliation import liability, responses, service

bp = Blueprint(__name__)


@bp.route("/backoffice/reconciliation", methods=["GET"])
def reconciliation_findings():  # type: ignore[no-untyped-def]
    request = bp.current_request
    require(request, "backoffice")
    limit = limit_param(request, default=50, maximum=200)
    items, last = service.findings(query(request, "date"), limit, decode_cursor(query(request, "cursor")))
    shown = [responses.Mismatch(**item).model_dump(mode="json", exclude_unset=True) for item in items]
    return json_response({"items": shown, "next_cursor": encode_cursor(last)})


@bp.route("/backoffice/reports/liability", methods=["GET"])
def liability_report():  # type: ignore[no-untyped-def]
    request = bp.current_request
    require(request, "backoffice")
    report = responses.LiabilityReport(**liability.liability_report(query(request, "date")))
    return json_response(report.model_dump(mode="json", exclude_unset=True))
