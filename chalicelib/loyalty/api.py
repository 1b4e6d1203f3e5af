"""HTTP routes of the loyalty domain: parse, authorise, call one service function, shape JSON."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from chalice import Blueprint, Response
from chalice.app import Request
from pydantic import AfterValidator, AwareDatetime, Field, model_validator

from chalicelib import clock, pager
from chalicelib.address import AddressIn
from chalicelib.auth import Principal, require
from chalicelib.errors import BadRequest
from chalicelib.http import (
    Body,
    json_response,
    limit_param,
    parse,
    query,
    validate,
)
from chalicelib.lazy import lazy_module
from chalicelib.sales import Channel, LineIn, Receipt

if TYPE_CHECKING:  # loaded at the first request that uses them (chalicelib/lazy.py)
    from chalicelib import flows
    from chalicelib.loyalty import accounts, care, earning, responses
    from chalicelib.loyalty.rules import LedgerEntry, StoredReceipt
else:
    flows = lazy_module("chalicelib.flows")
    accounts = lazy_module("chalicelib.loyalty.accounts")
    care = lazy_module("chalicelib.loyalty.care")
    earning = lazy_module("chalicelib.loyalty.earning")
    responses = lazy_module("chalicelib.loyalty.responses")

bp = Blueprint(__name__)

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
RECEIPT_ID_MAX = 128
MAX_CENTS = 10**12  # EUR 10 billion: far beyond any sale, far inside DynamoDB's 38 digits


def _plausible(instant: datetime) -> datetime:
    # Far-off years overflow date arithmetic (time zones, validity years): refuse them as a 400.
    if not 1970 <= instant.year <= 2999:
        raise ValueError("must be between the years 1970 and 2999")
    return instant


Instant = Annotated[AwareDatetime, AfterValidator(_plausible)]


def member_caller(request: Request) -> Principal:
    """A member's token, refused with 410 ACCOUNT_MERGED before anything else once merged (L13)."""
    who = require(request, "member")
    accounts.refuse_merged(who.subject)
    return who


def _receipt_id(raw: str) -> str:
    """A receipt id from the path: bounded so that it fits DynamoDB keys (lot ids embed it)."""
    if not 1 <= len(raw) <= RECEIPT_ID_MAX or not raw.isprintable():
        raise BadRequest("INVALID_RECEIPT_ID", f"receipt_id: 1 to {RECEIPT_ID_MAX} printable characters")
    return raw


class JoinIn(Body):
    email: str = Field(pattern=EMAIL, max_length=254)
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    address: AddressIn | None = None
    newsletter: bool = Field(strict=True)
    partner_data_sharing: bool = Field(strict=True)


class ProfilePatch(Body):
    first_name: str | None = Field(default=None, min_length=1, max_length=100)
    last_name: str | None = Field(default=None, min_length=1, max_length=100)
    address: AddressIn | None = None
    newsletter: bool | None = Field(default=None, strict=True)
    partner_data_sharing: bool | None = Field(default=None, strict=True)
    # Recognised in any shape, so that the service refuses it with 422 EMAIL_IMMUTABLE (L13).
    email: Any = None

    @model_validator(mode="after")
    def _no_null_settings(self) -> ProfilePatch:
        # null removes an address; a name or a setting cannot be removed, only changed.
        nulls = [name for name in sorted(self.model_fields_set) if name not in ("address", "email")]
        if any(getattr(self, name) is None for name in nulls):
            raise ValueError("first_name, last_name, newsletter and partner_data_sharing cannot be null")
        return self


class RegisterIn(Body):
    receipt_id: str = Field(min_length=1, max_length=RECEIPT_ID_MAX)


class ReceiptIn(Body):
    receipt_id: str | None = None  # tolerated when it repeats the path's id; never fingerprinted
    channel: Channel
    store_id: str | None = Field(default=None, max_length=64)
    purchased_at: Instant
    member_id: str | None = Field(default=None, min_length=1, max_length=128)
    card_number: str | None = Field(default=None, min_length=1, max_length=32)
    coupon_discount_cents: int = Field(default=0, ge=0, le=MAX_CENTS, strict=True)
    lines: list[LineIn] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _one_member_and_unique_lines(self) -> ReceiptIn:
        if self.member_id is not None and self.card_number is not None:
            raise ValueError("give member_id or card_number, not both")
        if len({line.line_id for line in self.lines}) != len(self.lines):
            raise ValueError("line_id must be unique within a receipt")
        if any(line.unit_price_cents > MAX_CENTS for line in self.lines):
            raise ValueError(f"unit_price_cents may not exceed {MAX_CENTS}")  # DynamoDB numbers are finite
        return self


class ReturnLineIn(Body):
    line_id: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=10_000, strict=True)


class ReturnIn(Body):
    return_id: str = Field(min_length=1, max_length=64)
    returned_at: Instant
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=500)


class MergeIn(Body):
    source_member_id: str = Field(min_length=1, max_length=128)


MAX_ADJUSTMENT = 10**9  # far beyond any goodwill gesture, far inside DynamoDB's numbers


class AdjustmentIn(Body):
    adjustment_id: str = Field(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")
    points: int = Field(ge=-MAX_ADJUSTMENT, le=MAX_ADJUSTMENT, strict=True)
    reason: str = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _meaningful(self) -> AdjustmentIn:
        if self.points == 0:
            raise ValueError("points must not be 0")
        if not self.reason.isprintable() or not self.reason.strip():
            raise ValueError("reason: printable text without control characters")
        return self


class MemberLookup(Body):
    """`GET /backoffice/members`: exactly one of an e-mail address or a loyalty card number."""

    email: str | None = Field(default=None, min_length=1, max_length=254)
    card_number: str | None = Field(default=None, min_length=1, max_length=32)

    @model_validator(mode="after")
    def _exactly_one(self) -> MemberLookup:
        if (self.email is None) == (self.card_number is None):
            raise ValueError("give exactly one of email or card_number")
        return self


def _profile(p: accounts.Profile) -> dict[str, Any]:
    m = p.member
    return responses.Profile(
        member_id=m.member_id,
        email=m.email,
        first_name=m.first_name,
        last_name=m.last_name,
        address=None if m.address is None else responses.AddressOut(**m.address.__dict__),
        newsletter=m.newsletter,
        partner_data_sharing=m.partner_data_sharing,
        card_number=m.card_number,
        joined_on=m.joined_on.isoformat(),
        points=responses.Points(
            pending=m.balance.pending,
            available=m.balance.available,
            debt=m.balance.debt,
            expiring=[responses.Expiring(points=e.points, expires_on=e.expires_on.isoformat()) for e in p.expiring],
        ),
    ).model_dump(mode="json")


def _receipt_result(r: earning.ReceiptResult) -> dict[str, Any]:
    return responses.ReceiptResult(
        receipt_id=r.receipt_id, member_id=r.member_id, points=r.points, matures_on=r.matures_on.isoformat()
    ).model_dump(mode="json")


def _receipt(s: StoredReceipt) -> dict[str, Any]:
    r = s.receipt
    return responses.ReceiptSummary(
        receipt_id=r.receipt_id,
        channel=r.channel,
        store_id=r.store_id,
        purchased_at=r.purchased_at.isoformat(),
        total_cents=sum(line.total_cents for line in r.lines),
        points=s.points,
        matures_on=s.matures_on.isoformat(),
        returned=dict(r.returned),
    ).model_dump(mode="json")


def _entry(e: LedgerEntry) -> dict[str, Any]:
    return responses.HistoryEntry(at=clock.iso(e.at), type=e.type, points=e.points, cause=e.cause).model_dump(
        mode="json"
    )


@bp.route("/members", methods=["POST"])
def join() -> Response:
    who = member_caller(bp.current_request)
    body = parse(bp.current_request, JoinIn)
    address = body.address.to_address() if body.address else None
    profile = accounts.join(
        who.subject, body.email, body.first_name, body.last_name, address, body.newsletter, body.partner_data_sharing
    )
    return json_response(_profile(profile), 201)


@bp.route("/members/me", methods=["GET"])
def me() -> Response:
    who = require(bp.current_request, "member")  # the profile's one read answers 410 when merged (L13)
    return json_response(_profile(accounts.profile(who.subject)))


@bp.route("/members/me", methods=["PATCH"])
def update_me() -> Response:
    who = member_caller(bp.current_request)
    changes = parse(bp.current_request, ProfilePatch).model_dump(exclude_unset=True)
    return json_response(_profile(accounts.update_profile(who.subject, changes)))


@bp.route("/members/me/history", methods=["GET"])
def history() -> Response:
    request = bp.current_request
    who = member_caller(request)
    scope = f"history:{who.subject}"
    entries, last = accounts.history(who.subject, limit_param(request), pager.decode(query(request, "cursor"), scope))
    return json_response({"items": [_entry(e) for e in entries], "next_cursor": pager.encode(last, scope)})


@bp.route("/members/me/receipts", methods=["GET"])
def my_receipts() -> Response:
    request = bp.current_request
    who = member_caller(request)
    scope = f"receipts:{who.subject}"
    found, last = earning.receipts(who.subject, limit_param(request), pager.decode(query(request, "cursor"), scope))
    return json_response({"items": [_receipt(s) for s in found], "next_cursor": pager.encode(last, scope)})


@bp.route("/members/me/receipts", methods=["POST"])
def register_receipt() -> Response:
    who = member_caller(bp.current_request)
    body = parse(bp.current_request, RegisterIn)
    result, created = earning.register_receipt(who.subject, body.receipt_id)
    return json_response(_receipt_result(result), 201 if created else 200)


@bp.route("/receipts/{receipt_id}", methods=["PUT"])
def put_receipt(receipt_id: str) -> Response:
    require(bp.current_request, "pos")
    _receipt_id(receipt_id)
    body = parse(bp.current_request, ReceiptIn)
    if body.receipt_id not in (None, receipt_id):
        raise BadRequest("RECEIPT_ID_MISMATCH", "receipt_id in the body differs from the one in the path")
    receipt = Receipt(
        receipt_id=receipt_id,
        channel=body.channel,
        purchased_at=body.purchased_at,
        lines=tuple(line.to_line() for line in body.lines),
        member_id=body.member_id,
        store_id=body.store_id,
        coupon_discount_cents=body.coupon_discount_cents,
    )
    payload = body.model_dump(mode="json", exclude={"receipt_id"})
    result, created = earning.record_receipt(receipt, body.card_number, payload)
    return json_response(_receipt_result(result), 201 if created else 200)


@bp.route("/receipts/{receipt_id}/returns", methods=["POST"])
def post_return(receipt_id: str) -> Response:
    require(bp.current_request, "pos")
    _receipt_id(receipt_id)
    body = parse(bp.current_request, ReturnIn)
    lines = [(line.line_id, line.quantity) for line in body.lines]
    result, created = flows.record_return(
        receipt_id, body.return_id, body.returned_at, lines, body.model_dump(mode="json")
    )
    return json_response(responses.ReturnResult(**result.__dict__).model_dump(mode="json"), 201 if created else 200)


@bp.route("/backoffice/members/{member_id}/merge", methods=["POST"])
def merge(member_id: str) -> Response:
    require(bp.current_request, "backoffice")
    body = parse(bp.current_request, MergeIn)
    merged = flows.merge(member_id, body.source_member_id)
    return json_response(responses.MergeResult(**merged.__dict__).model_dump(mode="json"))


@bp.route("/backoffice/members", methods=["GET"])
def find_members() -> Response:
    request = bp.current_request
    require(request, "backoffice")
    ask = validate({"email": query(request, "email"), "card_number": query(request, "card_number")}, MemberLookup)
    return json_response({"items": [_profile(p) for p in care.find_members(ask.email, ask.card_number)]})


@bp.route("/backoffice/members/{member_id}/adjustments", methods=["POST"])
def adjust(member_id: str) -> Response:
    require(bp.current_request, "backoffice")
    body = parse(bp.current_request, AdjustmentIn)
    done, created = care.adjust_points(member_id, body.adjustment_id, body.points, body.reason)
    answer = responses.Adjustment(
        adjustment_id=done.adjustment_id,
        member_id=done.member_id,
        points=done.points,
        reason=done.reason,
        at=clock.iso(done.at),
        cause=f"adjustment:{done.adjustment_id}",
    )
    return json_response(answer.model_dump(mode="json"), 201 if created else 200)
