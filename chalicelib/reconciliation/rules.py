"""Pure rules of the nightly reconciliation (issue 16): what a consistent member looks like.

A member is consistent when its materialised balances are the sums of its lots (pending lots make
`pending`, available lots make `available`) and every lot is traceable to its history: the entry
that earned it (`earned#<lot>`), the copy of that entry a merge brought along
(`earned#<lot>@<source>`), the merge's own entry (`merged#<source>#<lot>`), or an `adjusted`
entry whose lots name it. A mismatch is reported, never repaired.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
