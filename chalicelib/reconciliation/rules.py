"""Pure rules of the nightly reconciliation (issue 16): what a consistent member looks like.

A member is consistent when its materialised balances are the sums of its lots (pending lots make
`pending`, available lots make `available`) and every lot is traceable to its history: the entry
that earned it (`earned#<lot>`), the copy of that entry a merge brought along
(`earned#<lot>@<source>`), the merge's own entry (`merged#<source>#<lot>`), or an `adjusted`
entry whose lots name it. A mismatch is reported, never repaired.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

KINDS = ("pending", "available", "lot_without_history")


@dataclass(frozen=True)
class LotView:
    lot_id: str
    status: str
    remaining: int
    points: int


@dataclass(frozen=True)
class Mismatch:
    member_id: str
    kind: str
    expected: int
    actual: int
    lot_id: str | None = None

    @property
    def key(self) -> str:
        return f"{self.member_id}#{self.kind}" + (f"#{self.lot_id}" if self.lot_id else "")


def days_checked(as_of: date) -> tuple[date, date]:
    """The run of `as_of` (early on that day) checks members last touched on the day before or on
    the day itself: a member's last touch before the run is always one of them, so every touched
    member is checked by the first run after its touch, even when it is touched again meanwhile."""
    return as_of - timedelta(days=1), as_of


def traceable(lot_id: str, entries: Mapping[str, Mapping[str, int] | None]) -> bool:
    """Whether the history (entry id -> its lots map) accounts for the lot."""
    if f"earned#{lot_id}" in entries:
        return True
    for entry_id, lots in entries.items():
        if entry_id.startswith(f"earned#{lot_id}@"):
            return True
        if entry_id.startswith("merged#") and entry_id.endswith(f"#{lot_id}"):
            return True
        if entry_id.startswith("adjust") and lots and lot_id in lots:
            return True
    return False


def mismatches(
    member_id: str,
    pending: int,
    available: int,
    lots: Iterable[LotView],
    entries: Mapping[str, Mapping[str, int] | None],
) -> list[Mismatch]:
    """Every way the member's balances, lots and history disagree (empty when they agree)."""
    lots = list(lots)
    found: list[Mismatch] = []
    lots_pending = sum(lot.remaining for lot in lots if lot.status == "pending")
    lots_available = sum(lot.remaining for lot in lots if lot.status == "available")
    if lots_pending != pending:
        found.append(Mismatch(member_id, "pending", expected=lots_pending, actual=pending))
    if lots_available != available:
        found.append(Mismatch(member_id, "available", expected=lots_available, actual=available))
    for lot in sorted(lots, key=lambda lot: lot.lot_id):
        if not traceable(lot.lot_id, entries):
            found.append(Mismatch(member_id, "lot_without_history", expected=lot.points, actual=0, lot_id=lot.lot_id))
    return found


# --- claims (issue 16): status, timeline and payouts agree -----------------------------------

CLAIM_KINDS = (
    "claim_status_not_timeline",
    "claim_illegal_transition",
    "claim_not_in_batch",
    "claim_batch_status",
    "batch_amount",
)
# The status a claim's batch must have while the claim is in that status.
BATCH_STATUS_OF = {"paid": "paid", "payout_scheduled": "scheduled"}


@dataclass(frozen=True)
class ClaimMismatch:
    """`expected`/`actual`: statuses (or a batch id), cents for `batch_amount` (then no claim)."""

    claim_number: str | None
    kind: str
    expected: str | int
    actual: str | int
    batch_id: str | None = None

    @property
    def key(self) -> str:
        return f"claim#{self.claim_number}#{self.kind}" if self.claim_number else f"batch#{self.batch_id}#{self.kind}"


@dataclass(frozen=True)
class ClaimView:
    claim_number: str
    status: str
    timeline: tuple[str, ...]  # the statuses of its timeline entries, oldest first
    payout_batch_id: str | None
    reward_cents: int | None


@dataclass(frozen=True)
class BatchView:
    batch_id: str
    status: str
    claim_numbers: frozenset[str]
    total_cents: int


def claim_mismatches(
    claim: ClaimView, batch: BatchView | None, can_transition: Callable[[str, str], bool]
) -> list[ClaimMismatch]:
    """Every way the claim's status disagrees with its timeline (the last entry's status, each
    move allowed by the state machine `can_transition`) or with its payout batch (`batch`: the
    one its `payout_batch_id` names, None when that does not exist)."""
    number, found = claim.claim_number, []
    last = claim.timeline[-1] if claim.timeline else ""
    if last != claim.status:
        found.append(ClaimMismatch(number, "claim_status_not_timeline", expected=last, actual=claim.status))
    for source, target in zip(claim.timeline, claim.timeline[1:], strict=False):
        if source != target and not can_transition(source, target):
            found.append(ClaimMismatch(number, "claim_illegal_transition", expected=source, actual=target))
    needs_batch = claim.status in BATCH_STATUS_OF or claim.payout_batch_id is not None
    if not needs_batch:
        return found
    batch_id = claim.payout_batch_id or ""
    if batch is None or number not in batch.claim_numbers:
        found.append(ClaimMismatch(number, "claim_not_in_batch", expected=batch_id, actual="", batch_id=batch_id))
    elif claim.status in BATCH_STATUS_OF and batch.status != BATCH_STATUS_OF[claim.status]:
        expected = BATCH_STATUS_OF[claim.status]
        found.append(ClaimMismatch(number, "claim_batch_status", expected, batch.status, batch_id=batch_id))
    return found


def batch_mismatch(batch: BatchView, rewards: Mapping[str, int | None]) -> ClaimMismatch | None:
    """A scheduled or paid batch must pay exactly its claims' rewards (`rewards`: claim -> cents)."""
    if batch.status not in ("scheduled", "paid"):
        return None
    owed = sum(int(rewards.get(n) or 0) for n in batch.claim_numbers)
    if owed == batch.total_cents:
        return None
    return ClaimMismatch(None, "batch_amount", expected=owed, actual=batch.total_cents, batch_id=batch.batch_id)
