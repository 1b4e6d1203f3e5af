"""Pure rules of the laptop trade-in campaign (T1-T15): no clock, no environment, no boto.

Time ("today", "now") and policy (the campaign's terms, the claim policy) come in as arguments.
The claim's state machine is declared here, once: `TRANSITIONS`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal, cast

from chalicelib.address import Address
from chalicelib.tradein.workdays import add_working_days

Status = Literal[
    "awaiting_proof",
    "under_review",
    "incomplete",
    "awaiting_device",
    "device_received",
    "approved",
    "revised",
    "rejected",
    "return_requested",
    "payout_scheduled",
    "paid",
    "lapsed",
    "void",
    "disqualified",
]
Outcome = Literal["approved", "revised", "rejected"]

# The one state machine of a claim: from-status -> the statuses it may move to.
# (decision) A claim can be voided (T12) or disqualified (T13) until its payout is scheduled: the
# SEPA file is then out of our hands. A claim that lapsed because its laptop had not arrived by
# day 60 (T8) may still become `rejected` when the laptop turns up late, so that the participant
# can ask for it back (T10), or `device_received` when it did arrive by day 60 but was recorded
# after the nightly run; the service allows these moves only for that lapse reason.
TRANSITIONS: Mapping[str, frozenset[str]] = {
    "awaiting_proof": frozenset({"under_review", "lapsed", "void", "disqualified"}),
    "under_review": frozenset({"awaiting_device", "incomplete", "lapsed", "void", "disqualified"}),
    "incomplete": frozenset({"awaiting_device", "lapsed", "void", "disqualified"}),
    "awaiting_device": frozenset({"device_received", "rejected", "lapsed", "void", "disqualified"}),
    "device_received": frozenset({"approved", "revised", "rejected", "void", "disqualified"}),
    "approved": frozenset({"payout_scheduled", "void", "disqualified"}),
    "revised": frozenset({"payout_scheduled", "void", "disqualified"}),
    "rejected": frozenset({"return_requested", "lapsed", "disqualified"}),
    "payout_scheduled": frozenset({"paid", "approved", "revised"}),
    "return_requested": frozenset(),
    "paid": frozenset(),
    "lapsed": frozenset({"rejected", "device_received"}),
    "void": frozenset(),
    "disqualified": frozenset(),
}
STATUSES: tuple[str, ...] = tuple(TRANSITIONS)


def status(value: str) -> Status:
    """A stored status as the state machine's type; a value it does not know is refused."""
    if value not in TRANSITIONS:
        raise ValueError(f"unknown claim status {value!r}")
    return cast(Status, value)


# Statuses in which nothing more is expected of anyone: the claim no longer keeps its campaign open.
SETTLED: frozenset[str] = frozenset({"return_requested", "paid", "lapsed", "void", "disqualified"})
# Statuses whose claim still waits for the new laptop's return to matter (T12).
VOIDABLE: frozenset[str] = frozenset(s for s, targets in TRANSITIONS.items() if "void" in targets)

PROOF_CONTENT_TYPES = ("application/pdf", "image/jpeg", "image/png")


class IllegalTransition(ValueError):
    def __init__(self, source: str, target: str):
        super().__init__(f"{source} -> {target}")
        self.source = source
        self.target = target


def can_transition(source: str, target: str) -> bool:
    """Whether the claim state machine allows `source -> target` (T6-T13)."""
    return target in TRANSITIONS.get(source, frozenset())


def check_transition(source: str, target: str) -> None:
    """Raise IllegalTransition unless the state machine allows `source -> target`."""
    if not can_transition(source, target):
        raise IllegalTransition(source, target)


@dataclass(frozen=True)
class Campaign:
    """A campaign's terms: data, not code (G5). Defaults are the seeded campaign's (seed 001)."""

    campaign_id: str
    name: str
    starts_at: datetime
    ends_at: datetime
    min_line_price_cents: int = 59900
    excluded_brands: tuple[str, ...] = ("Apple",)
    channels: tuple[str, ...] = ("store", "webshop")
    # (decision) Empty means every store that reports here: all of them are the retailer's Dutch
    # stores. A campaign limited to some stores lists their ids.
    store_ids: tuple[str, ...] = ()
    laptop_category: str = "laptop"
    reward_cents: int = 10000
    window_first_day: int = 30
    window_last_day: int = 60
    device_last_day: int = 60
    min_screen_inches: float = 10.0
    max_device_age_years: int = 6
    device_criteria: str = (
        "werkend, compleet en onbeschadigd (redelijke slijtage geaccepteerd), beeldscherm minimaal 10 inch, "
        "maximaal 6 jaar oud, met alle accessoires inclusief werkende batterij en voeding"
    )


@dataclass(frozen=True)
class ClaimPolicy:
    """Claim handling values a retailer tunes (G5). No defaults here: they live in
    `chalicelib.config.Settings` only (`lifecycle.policy()`, tests via `tests.factories`)."""

    employee_email_domains: tuple[str, ...]
    incomplete_working_days: int
    return_request_working_days: int
    payout_within_days: int
    ip_velocity_per_day: int


@dataclass(frozen=True)
class Participant:
    first_name: str
    last_name: str
    email: str
    phone: str
    birth_date: date
    address: Address
    iban: str | None = None
    account_holder: str | None = None


@dataclass(frozen=True)
class OldDevice:
    brand: str
    model: str
    screen_inches: float
    purchased_on: date
    working: bool
    complete: bool
    undamaged: bool
    battery_ok: bool
    charger_included: bool


@dataclass(frozen=True)
class Declarations:
    legal_owner: bool
    private_person: bool
    not_employee: bool
    data_removed: bool


@dataclass(frozen=True)
class Refusal:
    """Why a rule refused: the contract's error code, a message, and details without personal data."""

    code: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    status: Status
    event: str  # "status", "email", "flag", "proof_refused"
    detail: str | None = None


@dataclass(frozen=True)
class Claim:
    claim_number: str
    campaign_id: str
    receipt_id: str
    laptop_line_id: str
    status: Status
    version: int
    registered_at: datetime
    purchase_date: date
    participant: Participant
    old_device: OldDevice
    client_ip: str
    registration_by: date
    device_by: date
    timeline: tuple[TimelineEntry, ...] = ()
    flags: tuple[str, ...] = ()
    proof_key: str | None = None
    proof_upload_key: str | None = None
    proof_etag: str | None = None
    proof_sha256: str | None = None
    proof_content_type: str | None = None
    complete_by: date | None = None
    return_request_by: date | None = None
    reward_cents: int | None = None
    reason: str | None = None
    success_notified_on: date | None = None
    approved_status: Status | None = None
    payout_batch_id: str | None = None
    payout_attempt: int = 0
    execution_date: date | None = None
    lapse_reason: str | None = None
    received_on: date | None = None
    void_return_id: str | None = None
    outbox: tuple[OutboxItem, ...] = ()


@dataclass(frozen=True)
class OutboxItem:
    """An e-mail owed to the participant, written in the same update as the transition that owes it:
    its facts as JSON (`outbox.dump`, read back by `outbox.load`) and the day it was owed, which
    its deadlines count from (None: written before that day was kept)."""

    item_id: str
    kind: str
    facts: dict[str, Any] = field(default_factory=dict)
    owed_on: date | None = None


# --- G2: day counting ---------------------------------------------------------------------------


def day_number(purchase_date: date, day: date) -> int:
    """Which day after purchase `day` is, the purchase day being day 1 (G2)."""
    return (day - purchase_date).days + 1


def nth_day(purchase_date: date, n: int) -> date:
    """Day N after purchase (G2): `purchase_date + (N - 1)`."""
    return purchase_date + timedelta(days=n - 1)


def registration_window(purchase_date: date, campaign: Campaign) -> tuple[date, date]:
    """First and last day on which a claim may be registered (T2: days 30-60, G2)."""
    return nth_day(purchase_date, campaign.window_first_day), nth_day(purchase_date, campaign.window_last_day)


def device_deadline(purchase_date: date, campaign: Campaign) -> date:
    """Last day on which the old laptop may arrive (T8: day 60 after purchase, G2)."""
    return nth_day(purchase_date, campaign.device_last_day)


# --- T3, T14: postcodes ------------------------------------------------------------------------


def normalise_postcode(postcode: str) -> str:
    """`1234 ab` -> `1234AB` (T3, T14)."""
    return re.sub(r"\s+", "", postcode).upper()


# --- T6-T11: deadlines and outcomes --------------------------------------------------------------


def complete_by(email_sent_on: date, policy: ClaimPolicy) -> date:
    """T7: 7 working days to complete a claim, counted from the day the e-mail went out."""
    return add_working_days(email_sent_on, policy.incomplete_working_days)


def return_request_by(email_sent_on: date, policy: ClaimPolicy) -> date:
    """T10: 14 working days after the rejection e-mail to ask for the old laptop back."""
    return add_working_days(email_sent_on, policy.return_request_working_days)


def is_late_arrival(received_on: date, device_by: date) -> bool:
    """T8: a laptop received after day 60 after purchase means the claim is rejected."""
    return received_on > device_by


def is_past(deadline: date | None, today: date) -> bool:
    """A deadline is the last allowed day: it has passed on the day after (T7, T8, T10)."""
    return deadline is not None and today > deadline


def inspection_reward(outcome: Outcome, reward_cents: int | None, campaign: Campaign) -> int | Refusal:
    """T9: approved pays the full reward; revised a lower, positive amount set by the inspector;
    rejected pays nothing. An amount sent with approved or rejected must be the one it pays."""
    if outcome == "approved" and reward_cents in (None, campaign.reward_cents):
        return campaign.reward_cents
    if outcome == "rejected" and reward_cents in (None, 0):
        return 0
    if outcome != "revised":
        expected = campaign.reward_cents if outcome == "approved" else 0
        return Refusal(
            "INVALID_REWARD",
            f"An {outcome} claim pays {expected} cents; a lower reward is the outcome revised",
            {"expected_cents": expected},
        )
    if reward_cents is None or not 0 < reward_cents < campaign.reward_cents:
        return Refusal(
            "INVALID_REWARD",
            "A revised reward must be more than 0 and less than the campaign's reward",
            {"max_cents": campaign.reward_cents - 1},
        )
    return reward_cents


def payout_execution_date(today: date, latest: date | None = None) -> date:
    """T11: a batch made by the nightly run is paid on the next working day, so that a claim
    approved and announced on day D is paid by about D + 2 working days, well within 30 days.
    When that would pass `latest` (the last day allowed for a claim of the batch, e.g. after a
    missed run or a failed batch), the batch is dated `latest`, or today if that has passed."""
    execution = add_working_days(today, 1)
    if latest is not None and execution > latest:
        return max(today, latest)
    return execution


def payout_latest_date(success_notified_on: date, policy: ClaimPolicy) -> date:
    """T11: the last day on which a successful claim may be paid."""
    return success_notified_on + timedelta(days=policy.payout_within_days)


def campaign_listed(campaign: Campaign, today: date, has_open_claims: bool) -> bool:
    """A campaign is shown while registration can still open or close, or claims are in progress."""
    last_purchase_day = campaign.ends_at.date()
    return today <= nth_day(last_purchase_day, campaign.window_last_day) or has_open_claims


def postcode_matches(claim: Claim, postcode: str) -> bool:
    """T14: the tracking look-up also needs the claim's postcode."""
    return normalise_postcode(postcode) == normalise_postcode(claim.participant.address.postcode)


def tracking_key(claim_number: str, postcode: str) -> str:
    """T14: the participant's look-up key, from the claim number and the normalised postcode.

    A claim is found by this key alone, so a wrong postcode is the same miss as an unknown
    number: equal in answer, requests and time. The key holds a hash, not the postcode (T15)."""
    material = f"{claim_number.strip().upper()}|{normalise_postcode(postcode)}"
    return "track#" + hashlib.sha256(material.encode()).hexdigest()


NextStep = Literal["upload_proof", "complete_details", "send_device", "wait", "request_return", "none"]


def next_step(claim: Claim, today: date) -> NextStep:
    """What the participant should do now (API.md tracking): upload the proof while the window
    is open (T2), complete the bank details within 7 working days (T7), send the old laptop by
    day 60 (T8), ask it back within 14 working days of a rejection (T10); otherwise wait while
    the organiser acts, or nothing once the claim is settled. A deadline that has passed leaves
    nothing to do (the nightly run lapses the claim).
    (decision) `return_requested` is settled: the organiser sends the laptop back, the
    participant has nothing left to do (`none`)."""
    match claim.status:
        case "awaiting_proof":
            return "none" if is_past(claim.registration_by, today) else "upload_proof"
        case "incomplete":
            return "none" if is_past(claim.complete_by, today) else "complete_details"
        case "awaiting_device":
            return "none" if is_past(claim.device_by, today) else "send_device"
        case "rejected":
            return "none" if is_past(claim.return_request_by, today) else "request_return"
        case "under_review" | "device_received" | "approved" | "revised" | "payout_scheduled":
            return "wait"
    return "none"


# Why a proof file is refused (API.md "Trade-in"): empty, over the size limit, not a PDF or image.
PROOF_EMPTY = "EMPTY"
PROOF_TOO_LARGE = "TOO_LARGE"
PROOF_UNSUPPORTED_TYPE = "UNSUPPORTED_TYPE"


def proof_refusal(size: int, sniffed_type: str | None, max_bytes: int) -> str | None:
    """T13: the reason a proof file does not check out, or None when it does."""
    if size <= 0:
        return PROOF_EMPTY
    if size > max_bytes:
        return PROOF_TOO_LARGE
    if sniffed_type not in PROOF_CONTENT_TYPES:
        return PROOF_UNSUPPORTED_TYPE
    return None


def due_on(claim: Claim, today: date) -> date | None:
    """The date from which the nightly run must look at a claim in its status, or None.

    Deadlines (T2 proof, T7, T8, T10) are due the day after their last day; a claim left in
    `under_review` by an interrupted upload is due at once (T6); approved claims are due for
    the next payout batch (T11); scheduled payouts on their execution date.
    """
    match claim.status:
        case "awaiting_proof":
            return claim.registration_by
        case "under_review":
            return today
        case "incomplete":
            return claim.complete_by
        case "awaiting_device":
            return claim.device_by
        case "rejected":
            return claim.return_request_by
        case "approved" | "revised":
            return claim.success_notified_on or today
        case "payout_scheduled":
            return claim.execution_date
    return None


def deadlines(claim: Claim) -> dict[str, str]:
    """The dates that matter to the participant in the claim's current status (T2, T7, T8, T10, T11)."""
    found: dict[str, str] = {}
    if claim.status == "awaiting_proof":
        found["proof_by"] = claim.registration_by.isoformat()
    if claim.status == "incomplete" and claim.complete_by:
        found["complete_by"] = claim.complete_by.isoformat()
    if claim.status in {"awaiting_proof", "under_review", "incomplete", "awaiting_device"}:
        found["device_by"] = claim.device_by.isoformat()
    if claim.status == "rejected" and claim.return_request_by:
        found["return_request_by"] = claim.return_request_by.isoformat()
    if claim.status == "payout_scheduled" and claim.execution_date:
        found["payment_on"] = claim.execution_date.isoformat()
    return found
