"""HTTP routes of the trade-in back office: campaigns (G5) and the claim handler's look-ups.

Every route needs the role `backoffice` (member and POS tokens get 403).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Annotated, Literal

from chalice import Blueprint, Response
from pydantic import AwareDatetime, Field, StrictFloat, StrictInt

from chalicelib import clock, pager
from chalicelib.auth import require
from chalicelib.errors import BadRequest
from chalicelib.http import Body, json_response, limit_param, parse, query
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:  # loaded at the first request that uses them (chalicelib/lazy.py)
    from chalicelib.tradein import backoffice, campaigns, rules
else:
    backoffice = lazy_module("chalicelib.tradein.backoffice")
    campaigns = lazy_module("chalicelib.tradein.campaigns")
    rules = lazy_module("chalicelib.tradein.rules")

bp = Blueprint(__name__)

Channel = Literal["store", "webshop", "marketplace", "outlet", "phone_subscriptions"]
Brand = Annotated[str, Field(max_length=60)]


class WindowIn(Body):
    """Days after purchase, the purchase day being day 1 (G2)."""

    first: StrictInt | None = None
    last: StrictInt | None = None


class DeviceCriteriaIn(Body):
    text: str | None = Field(default=None, min_length=1, max_length=1000)
    min_screen_inches: StrictFloat | StrictInt | None = None
    max_age_years: StrictInt | None = None


class CampaignTermsIn(Body):
    """API.md's campaign terms; every term left out takes the seed 001 campaign's value. Types
    are checked here (400); values by the campaign rules (422 `CAMPAIGN_TERMS_INVALID`)."""

    name: str | None = Field(default=None, max_length=200)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    channels: list[Channel] | None = Field(default=None, max_length=5)
    min_line_price_cents: StrictInt | None = None
    excluded_brands: list[Brand] | None = Field(default=None, max_length=50)
    reward_cents: StrictInt | None = None
    registration_window_days: WindowIn | None = None
    device_deadline_day: StrictInt | None = None
    device_criteria: DeviceCriteriaIn | None = None


@bp.route("/backoffice/campaigns/{campaign_id}", methods=["PUT"])
def put_campaign(campaign_id: str) -> Response:
    require(bp.current_request, "backoffice")
    body = parse(bp.current_request, CampaignTermsIn)
    answer, created = campaigns.put_campaign(campaign_id, body.model_dump(exclude_none=True), clock.now())
    return json_response(answer, 201 if created else 200)


@bp.route("/backoffice/campaigns", methods=["GET"])
def list_campaigns() -> Response:
    request = bp.current_request
    require(request, "backoffice")
    items, last = campaigns.list_for_backoffice(
        limit_param(request), pager.decode(query(request, "cursor"), "campaigns")
    )
    return json_response({"items": items, "next_cursor": pager.encode(last, "campaigns")})


@bp.route("/backoffice/claims", methods=["GET"])
def claims() -> Response:
    request = bp.current_request
    require(request, "backoffice")
    status = query(request, "status") or None  # `?status=` (empty) lists every status
    if status is not None and status not in rules.STATUSES:
        raise BadRequest("INVALID_STATUS", f"status must be one of {', '.join(rules.STATUSES)}")
    q = (query(request, "q") or "").strip()
    if len(q) > 254:
        raise BadRequest("INVALID_QUERY", "q is at most 254 characters")
    # A cursor belongs to one status filter and one search; the search text shows only as a hash.
    scope = f"claims:{status or ''}:{hashlib.sha256(q.lower().encode()).hexdigest()[:32] if q else ''}"
    limit, cursor = limit_param(request), pager.decode(query(request, "cursor"), scope)
    if q:
        items, last = backoffice.search_claims(q, status, limit, cursor)
    else:
        items, last = backoffice.list_claims(status, limit, cursor)
    return json_response({"items": items, "next_cursor": pager.encode(last, scope)})


@bp.route("/backoffice/claims/{claim_number}", methods=["GET"])
def claim(claim_number: str) -> Response:
    require(bp.current_request, "backoffice")
    return json_response(backoffice.claim_view(claim_number))
