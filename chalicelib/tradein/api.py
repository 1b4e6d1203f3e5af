"""HTTP routes of the trade-in domain: public participant routes and back-office routes."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Annotated, Literal

from chalice import Blueprint, Response
from pydantic import BeforeValidator, Field, StrictBool, StrictFloat, StrictInt, model_validator

from chalicelib import clock, pager
from chalicelib.address import AddressIn
from chalicelib.auth import require
from chalicelib.errors import BadRequest
from chalicelib.http import Body, json_response, limit_param, parse, query
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:  # loaded at the first request that uses them (chalicelib/lazy.py)
    from chalicelib import flows
    from chalicelib.tradein import campaigns, participant, registration, rules
    from chalicelib.tradein import inspection as inspections
    from chalicelib.tradein import payouts as payout_batches
else:
    flows = lazy_module("chalicelib.flows")
    campaigns = lazy_module("chalicelib.tradein.campaigns")
    participant = lazy_module("chalicelib.tradein.participant")
    registration = lazy_module("chalicelib.tradein.registration")
    rules = lazy_module("chalicelib.tradein.rules")
    inspections = lazy_module("chalicelib.tradein.inspection")
    payout_batches = lazy_module("chalicelib.tradein.payouts")

bp = Blueprint(__name__)

ContentType = Literal["application/pdf", "image/jpeg", "image/png"]
Text = Annotated[str, Field(min_length=1, max_length=200)]


def _iso_date(value: object) -> object:
    """Dates are `YYYY-MM-DD` strings (API.md): not numbers, not timestamps."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]


def _blank_is_missing(value: object) -> object:
    """A form's empty field is a field left out (API.md: `iban`, `account_holder` are optional)."""
    return None if isinstance(value, str) and not value.strip() else value


OptionalText = Annotated[str | None, BeforeValidator(_blank_is_missing)]


class ParticipantIn(Body):
    first_name: Text
    last_name: Text
    email: str = Field(min_length=3, max_length=254)
    phone: str = Field(min_length=6, max_length=20, pattern=r"^\+?[0-9 ()-]+$")
    birth_date: IsoDate
    address: AddressIn
    iban: OptionalText = Field(default=None, min_length=5, max_length=42)
    account_holder: OptionalText = Field(default=None, min_length=1, max_length=140)

    def to_rules(self) -> rules.Participant:
        return rules.Participant(**{**self.model_dump(), "address": self.address.to_address()})


class OldDeviceIn(Body):
    brand: Text
    model: Text
    screen_inches: StrictFloat = Field(gt=0, le=30)
    purchased_on: IsoDate
    working: StrictBool
    complete: StrictBool
    undamaged: StrictBool
    battery_ok: StrictBool
    charger_included: StrictBool


class DeclarationsIn(Body):
    legal_owner: StrictBool
    private_person: StrictBool
    not_employee: StrictBool
    data_removed: StrictBool


class RegistrationIn(Body):
    campaign_id: str = Field(min_length=1, max_length=64)
    receipt_id: str = Field(min_length=1, max_length=64)
    laptop_line_id: str = Field(min_length=1, max_length=64)
    participant: ParticipantIn
    old_device: OldDeviceIn
    declarations: DeclarationsIn
    proof_content_type: ContentType = "application/pdf"

    def to_registration(self) -> registration.Registration:
        return registration.Registration(
            campaign_id=self.campaign_id,
            receipt_id=self.receipt_id,
            laptop_line_id=self.laptop_line_id,
            participant=self.participant.to_rules(),
            old_device=rules.OldDevice(**self.old_device.model_dump()),
            declarations=rules.Declarations(**self.declarations.model_dump()),
            proof_content_type=self.proof_content_type,
        )


class PostcodeIn(Body):
    postcode: str = Field(min_length=4, max_length=10)


class UploadIn(PostcodeIn):
    proof_content_type: ContentType = "application/pdf"


class BankDetailsIn(Body):
    iban: OptionalText = Field(default=None, min_length=5, max_length=42)
    account_holder: OptionalText = Field(default=None, min_length=1, max_length=140)


class CompletionIn(PostcodeIn):
    participant: BankDetailsIn


class DeviceReceivedIn(Body):
    received_on: IsoDate


class InspectionIn(Body):
    outcome: Literal["approved", "revised", "rejected"]
    reward_cents: StrictInt | None = Field(default=None, ge=0)
    reason: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _reason_and_reward(self) -> InspectionIn:
        if self.outcome != "approved" and not (self.reason or "").strip():
            raise ValueError("reason is required for a revised or rejected outcome")
        if self.outcome == "revised" and self.reward_cents is None:
            raise ValueError("reward_cents is required for a revised outcome")
        return self


class ReasonIn(Body):
    reason: str = Field(min_length=1, max_length=500)


def _client_ip() -> str:
    """T13: the caller's address as API Gateway saw it."""
    context = bp.current_request.context or {}
    return str((context.get("identity") or {}).get("sourceIp") or "unknown")


def _postcode_param() -> str:
    postcode = query(bp.current_request, "postcode")
    if not postcode:
        raise BadRequest("POSTCODE_REQUIRED", "The query parameter postcode is required")
    return postcode


# --- public ----------------------------------------------------------------------------------------


@bp.route("/tradein/campaigns", methods=["GET"])
def list_campaigns() -> Response:
    return json_response({"items": campaigns.list_campaigns(clock.today()), "next_cursor": None})


@bp.route("/tradein/claims", methods=["POST"])
def register_claim() -> Response:
    body = parse(bp.current_request, RegistrationIn)
    answer, created = flows.register_claim(body.to_registration(), _client_ip(), clock.now())
    return json_response(answer, 201 if created else 200)


@bp.route("/tradein/claims/{claim_number}", methods=["GET"])
def track_claim(claim_number: str) -> Response:
    return json_response(participant.track_claim(claim_number, _postcode_param()))


@bp.route("/tradein/claims/{claim_number}", methods=["PATCH"])
def complete_claim(claim_number: str) -> Response:
    body = parse(bp.current_request, CompletionIn)
    bank = body.participant
    return json_response(
        participant.complete_claim(claim_number, body.postcode, bank.iban, bank.account_holder, clock.now())
    )


@bp.route("/tradein/claims/{claim_number}/upload", methods=["POST"])
def fresh_upload(claim_number: str) -> Response:
    body = parse(bp.current_request, UploadIn)
    return json_response(participant.fresh_upload(claim_number, body.postcode, body.proof_content_type, clock.now()))


@bp.route("/tradein/claims/{claim_number}/return-request", methods=["POST"])
def request_return(claim_number: str) -> Response:
    body = parse(bp.current_request, PostcodeIn)
    return json_response(participant.request_return(claim_number, body.postcode, clock.now()))


# --- back office -----------------------------------------------------------------------------------


@bp.route("/backoffice/claims/{claim_number}/device-received", methods=["POST"])
def device_received(claim_number: str) -> Response:
    require(bp.current_request, "backoffice")
    body = parse(bp.current_request, DeviceReceivedIn)
    return json_response(inspections.device_received(claim_number, body.received_on, clock.now()))


@bp.route("/backoffice/claims/{claim_number}/inspection", methods=["POST"])
def inspection(claim_number: str) -> Response:
    require(bp.current_request, "backoffice")
    body = parse(bp.current_request, InspectionIn)
    return json_response(inspections.inspect(claim_number, body.outcome, body.reward_cents, body.reason, clock.now()))


@bp.route("/backoffice/claims/{claim_number}/disqualify", methods=["POST"])
def disqualify(claim_number: str) -> Response:
    require(bp.current_request, "backoffice")
    body = parse(bp.current_request, ReasonIn)
    return json_response(inspections.disqualify(claim_number, body.reason.strip(), clock.now()))


@bp.route("/backoffice/payouts", methods=["GET"])
def payouts() -> Response:
    request = bp.current_request
    require(request, "backoffice")
    items, last = payout_batches.list_payouts(limit_param(request), pager.decode(query(request, "cursor"), "payouts"))
    return json_response({"items": items, "next_cursor": pager.encode(last, "payouts")})


@bp.route("/backoffice/payouts/{batch_id}/failed", methods=["POST"])
def payout_failed(batch_id: str) -> Response:
    require(bp.current_request, "backoffice")
    body = parse(bp.current_request, ReasonIn)
    return json_response(payout_batches.batch_failed(batch_id, body.reason.strip(), clock.now()))
