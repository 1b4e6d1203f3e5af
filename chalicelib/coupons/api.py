"""HTTP routes of the coupons domain: conversion and listing for members, validate and redeem for
the store systems (API.md). Handlers parse, authorise, call one service function, shape JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

from chalice import Blueprint, Response
from chalice.app import Request
from pydantic import Field

from chalicelib import pager
from chalicelib.auth import require
from chalicelib.errors import BadRequest
from chalicelib.http import Body, json_response, limit_param, parse, query
from chalicelib.lazy import lazy_module
from chalicelib.sales import Channel, LineIn

if TYPE_CHECKING:  # loaded at the first request that uses them (chalicelib/lazy.py)
    from chalicelib import flows
    from chalicelib.coupons import responses, service
    from chalicelib.coupons.rules import Coupon, Status, Validation
else:
    flows = lazy_module("chalicelib.flows")
    responses = lazy_module("chalicelib.coupons.responses")
    service = lazy_module("chalicelib.coupons.service")

bp = Blueprint(__name__)

MAX_CODES = 20
MAX_LINES = 500
IDEMPOTENCY_KEY_MAX = 128

CodeIn = Annotated[str, Field(min_length=1, max_length=64)]


class ConvertIn(Body):
    amount_cents: int = Field(gt=0, strict=True)


class BasketIn(Body):
    member_id: str = Field(min_length=1, max_length=128)
    channel: Channel
    lines: list[LineIn] = Field(min_length=1, max_length=MAX_LINES)


class ValidateIn(BasketIn):
    codes: list[CodeIn] = Field(max_length=MAX_CODES)


class RedeemIn(BasketIn):
    receipt_id: str = Field(min_length=1, max_length=128)
    codes: list[CodeIn] = Field(min_length=1, max_length=MAX_CODES)


@bp.route("/members/me/coupons", methods=["POST"])
def convert_points() -> Response:
    request = bp.current_request
    member = require(request, "member")
    account = flows.refuse_merged(member.subject)  # L13: 410 before the key or the body is looked at
    key = _idempotency_key(request)
    body = parse(request, ConvertIn)
    issued = flows.convert_points(member.subject, body.amount_cents, key, account)
    return json_response(coupon_json(issued.coupon, "active"), 201 if issued.created else 200)


@bp.route("/members/me/coupons", methods=["GET"])
def list_coupons() -> Response:
    request = bp.current_request
    member = require(request, "member")
    flows.refuse_merged(member.subject)  # L13: 410 before the query is looked at
    limit = limit_param(request)
    scope = f"coupons:{member.subject}"
    page, next_key = flows.list_coupons(member.subject, limit, pager.decode(query(request, "cursor"), scope))
    items = [coupon_json(coupon, status) for coupon, status in page]
    return json_response({"items": items, "next_cursor": pager.encode(next_key, scope)})


@bp.route("/coupons/validate", methods=["POST"])
def validate_coupons() -> Response:
    require(bp.current_request, "pos")
    body = parse(bp.current_request, ValidateIn)
    lines = [line.to_line() for line in body.lines]
    return json_response(validation_json(service.validate(body.member_id, body.channel, lines, body.codes)))


@bp.route("/coupons/redeem", methods=["POST"])
def redeem_coupons() -> Response:
    require(bp.current_request, "pos")
    body = parse(bp.current_request, RedeemIn)
    lines = [line.to_line() for line in body.lines]
    done = service.redeem(body.receipt_id, body.member_id, body.channel, lines, body.codes)
    answer = responses.RedemptionOut(
        receipt_id=done.receipt_id, redeemed=list(done.codes), discount_cents=done.discount_cents
    )
    return json_response(answer.model_dump(mode="json"))


def _idempotency_key(request: Request) -> str:
    headers: Mapping[str, str] = request.headers or {}
    key = headers.get("idempotency-key", "").strip()
    if not key:
        raise BadRequest("IDEMPOTENCY_KEY_REQUIRED", "The Idempotency-Key header is required")
    if len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable():
        raise BadRequest("INVALID_IDEMPOTENCY_KEY", f"Idempotency-Key: 1 to {IDEMPOTENCY_KEY_MAX} printable characters")
    return key


def coupon_json(coupon: Coupon, status: Status) -> dict[str, Any]:
    return responses.CouponOut(
        code=coupon.code,
        amount_cents=coupon.amount_cents,
        issued_on=coupon.issued_on.isoformat(),
        expires_on=coupon.expires_on.isoformat(),
        status=status,
    ).model_dump(mode="json")


def validation_json(result: Validation) -> dict[str, Any]:
    return responses.ValidationOut(
        accepted=[responses.Accepted(code=a.code, amount_cents=a.amount_cents) for a in result.accepted],
        rejected=[responses.Rejected(code=r.code, reason=r.reason) for r in result.rejected],
        discount_cents=result.discount_cents,
    ).model_dump(mode="json")
