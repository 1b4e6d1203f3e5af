"""What the trade-in routes answer (API.md "Trade-in", "Back office"). The trade-in views still
build dicts; these models are the contract those dicts are checked against (the API tests
validate every answer against the document generated from them)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from chalicelib.contract import Answer, Day, Timestamp
from chalicelib.tradein.rules import NextStep, Status

ProofContentType = Literal["application/pdf", "image/jpeg", "image/png"]


class Upload(Answer):
    """A presigned S3 POST: send `fields` plus the file (form field `file`) as multipart/form-data to
    `url`: exactly the key in `fields.key`, the declared content type, at most `max_bytes`."""

    url: str
    fields: dict[str, str]
    expires_at: Timestamp
    max_bytes: int
    content_type: ProofContentType


class Registered(Answer):
    claim_number: str = Field(examples=["K7QX3M9D"])
    status: Status
    upload: Upload | None


class FreshUpload(Answer):
    claim_number: str
    upload: Upload


class Window(Answer):
    first: int
    last: int


class DeviceCriteria(Answer):
    text: str
    min_screen_inches: float
    max_age_years: int


class Campaign(Answer):
    campaign_id: str
    name: str
    starts_at: Timestamp
    ends_at: Timestamp
    channels: list[str]
    min_line_price_cents: int
    excluded_brands: list[str]
    reward_cents: int
    registration_window_days: Window
    device_deadline_day: int
    device_criteria: DeviceCriteria


class BackofficeCampaign(Campaign):
    claims: dict[str, int] = Field(description="Claims per status (statuses without claims left out).")


class PublicTimelineEntry(Answer):
    """A status change (`status`) or a refused proof (`event` with its `reason`)."""

    at: Timestamp
    status: Status | None = None
    event: Literal["proof_refused"] | None = None
    reason: Literal["EMPTY", "TOO_LARGE", "UNSUPPORTED_TYPE"] | None = None


class Deadlines(Answer):
    """The dates that matter in the current status."""

    proof_by: Day | None = None
    complete_by: Day | None = None
    device_by: Day | None = None
    return_request_by: Day | None = None
    payment_on: Day | None = None


class Tracking(Answer):
    """A claim's status without personal data (T14)."""

    claim_number: str
    campaign_id: str
    status: Status
    timeline: list[PublicTimelineEntry]
    reward_cents: int | None
    deadlines: Deadlines
    next_step: NextStep


class DeviceSummary(Answer):
    brand: str
    model: str
    screen_inches: float


class ProofFacts(Answer):
    content_type: str | None
    sha256: str | None


class BackofficeClaim(Tracking):
    receipt_id: str
    laptop_line_id: str
    registered_at: Timestamp
    purchase_date: Day
    participant: dict[str, Any] = Field(description="Masked (T15).")
    old_device: DeviceSummary
    flags: list[str] = Field(examples=[["DUPLICATE_PROOF"]])
    proof: ProofFacts | None
    reason: str | None
    payout_batch_id: str | None


class TimelineEntry(Answer):
    """A status change (`status`) or an event (`event`: `proof_refused`, a flag, `email` with its `kind`)."""

    at: Timestamp
    status: Status | None = None
    event: str | None = None
    reason: str | None = None
    kind: str | None = None


class OldDevice(Answer):
    brand: str
    model: str
    screen_inches: float
    purchased_on: Day
    working: bool
    complete: bool
    undamaged: bool
    battery_ok: bool
    charger_included: bool


class Proof(Answer):
    url: str = Field(description="Presigned GET, valid 5 minutes.")
    content_type: str | None
    size_bytes: int | None
    sha256: str | None


class BackofficeClaimDetail(BackofficeClaim):
    timeline: list[TimelineEntry]  # type: ignore[assignment]
    deadlines: dict[str, Day] = Field(description="Every deadline the claim has.")  # type: ignore[assignment]
    old_device: OldDevice  # type: ignore[assignment]
    proof: Proof | None  # type: ignore[assignment]


class PayoutBatch(Answer):
    batch_id: str
    status: Literal["scheduled", "paid", "failed"]
    execution_date: Day
    claims: list[str]
    total_cents: int
    file_url: str = Field(description="Presigned GET of the pain.001 file.")
    reason: str | None
