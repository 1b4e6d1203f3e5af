"""GET /backoffice/reconciliation?date=: what the nightly reconciliation of a date found."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.auth import require
from chalicelib.http import decode_cursor, encode_cursor, json_response, limit_param, query
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:  # loaded at the first request that uses them (chalicelib/lazy.py)
    from chalicelib.reconciliation import liability, service
else:
    liability = lazy_module("chalicelib.reconciliation.liability")
    service = lazy_module("chalicelib.reconciliation.service")

bp = Blueprint(__name__)


@bp.route("/backoffice/reconciliation", methods=["GET"])
def reconciliation_findings():  # type: ignore[no-untyped-def]
    request = bp.current_request
    require(request, "backoffice")
    limit = limit_param(request, default=50, maximum=200)
    items, last = service.findings(query(request, "date"), limit, decode_cursor(query(request, "cursor")))
    return json_response({"items": items, "next_cursor": encode_cursor(last)})


@bp.route("/backoffice/reports/liability", methods=["GET"])
def liability_report():  # type: ignore[no-untyped-def]
    request = bp.current_request
    require(request, "backoffice")
    return json_response(liability.liability_report(query(request, "date")))
