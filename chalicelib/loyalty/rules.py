"""Pure rules of the loyalty ledger: no clock, no environment, no boto.

Every function takes the time ("today", a purchase date) and the policy as arguments.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from chalicelib.address import Address
from chalicelib.dates import valid_until
from chalicelib.sales import Channel, Line, Receipt

LotKind = Literal["base", "event"]
LotStatus = Literal["pending", "available", "expired", "reversed"]
MemberStatus = Literal["active", "merging", "merged"]
EntryType = Literal["earned", "matured", "spent", "expired", "reversed", "adjusted"]

NO_POINTS_CHANNELS: frozenset[Channel] = frozenset({"marketplace", "outlet"})


@dataclass(frozen=True)
class LoyaltyPolicy:
    """The tunable values of the programme (G5); built from `Settings` (the one home of their
    defaults) by `chalicelib.loyalty.accounts.policy`."""

    cents_per_point: int
    return_period_days: int
    base_validity_years: int
    event_validity_years: int
    welcome_points: int
    consent_points: int
    expiring_window_days: int


@dataclass(frozen=True)
class Balance:
    pending: int = 0
    available: int = 0
    debt: int = 0


@dataclass(frozen=True)
class Member:
    member_id: str
    email: str
    first_name: str
    last_name: str
    address: Address | None
    newsletter: bool
    partner_data_sharing: bool
    card_number: str
    joined_on: date
    balance: Balance = field(default_factory=Balance)
    status: MemberStatus = "active"
    merged_into: str | None = None
    consent_awarded: bool = False


@dataclass(frozen=True)
class Lot:
    """One award of points: what remains of it is spendable (available) or waiting (pending)."""

    member_id: str
    lot_id: str
    source: str  # receipt, welcome, marketing_consent
    kind: LotKind
    points: int
    remaining: int
    earned_on: date
    matures_on: date
    expires_on: date
    status: LotStatus
    receipt_id: str | None = None


@dataclass(frozen=True)
class LedgerEntry:
    member_id: str
    entry_id: str
    at: datetime  # aware, full precision: orders the history
    type: EntryType
    points: int
    cause: str


@dataclass(frozen=True)
class StoredReceipt:
    """A receipt as loyalty keeps it: the sale, what it earned, and the payload's fingerprint."""

    receipt: Receipt
    points: int
    matures_on: date
    fingerprint: str


@dataclass(frozen=True)
class StoredReturn:
    """A recorded return with what it still owes other domains (C8, T12) and what those did."""

    return_id: str
    receipt_id: str
    fingerprint: str
    returned_at: datetime
    points_reversed: int
    owed: frozenset[str]  # names of effects not done yet (see chalicelib.events.RETURN_EFFECTS)
    results: Mapping[str, tuple[str, ...]]  # effect name -> coupon codes / claim numbers


@dataclass(frozen=True)
class Expiring:
    points: int
    expires_on: date


# --- calendar (G1, G2, L6, L7) -------------------------------------------------------------


def matures_on(purchase_date: date, policy: LoyaltyPolicy) -> date:
    """L6: purchase points become available on purchase_date + the return period (30 days)."""
    return purchase_date + timedelta(days=policy.return_period_days)


def base_expires_on(purchase_date: date, policy: LoyaltyPolicy) -> date:
    """L7: base points are valid for 2 years after the purchase date."""
    return valid_until(purchase_date, policy.base_validity_years)


def event_expires_on(awarded_on: date, policy: LoyaltyPolicy) -> date:
    """L7: event points are valid for 1 year after they were awarded."""
    return valid_until(awarded_on, policy.event_validity_years)


def is_due_to_expire(expires_on: date, today: date) -> bool:
    """L7: points expire in the nightly run on the first day after their last valid day."""
    return today > expires_on


def is_due_to_mature(matures: date, today: date) -> bool:
    """L6: the first nightly run on or after matures_on makes the points available."""
    return today >= matures


# --- earning (L1, L2, L3, L5) -----------------------------------------------------------------


def points_for(eligible_cents: int, policy: LoyaltyPolicy) -> int:
    """L1: one point per whole euro of the eligible amount."""
    return max(0, eligible_cents) // policy.cents_per_point


def line_earns(line: Line) -> bool:
    """L2: products sold by the retailer itself earn; services, subscriptions, insurance, POSA
    (decision) and external sellers' lines do not."""
    return line.kind == "product" and line.seller == "retailer"


def eligible_cents(receipt: Receipt, returned: Mapping[str, int] | None = None) -> int:
    """L2, L3: the eligible amount of what is still kept, minus the coupon discount (never < 0)."""
    if receipt.channel in NO_POINTS_CHANNELS:
        return 0
    back = receipt.returned if returned is None else returned
    kept = sum(
        line.unit_price_cents * max(0, line.quantity - back.get(line.line_id, 0))
        for line in receipt.lines
        if line_earns(line)
    )
    return max(0, kept - receipt.coupon_discount_cents)


def receipt_points(receipt: Receipt, policy: LoyaltyPolicy, returned: Mapping[str, int] | None = None) -> int:
    """L1-L3: the points a receipt earns for the lines not returned."""
    return points_for(eligible_cents(receipt, returned), policy)


def registrable(receipt: Receipt) -> bool:
    """L5: a receipt of an external seller (the Marketplace, or only external lines) cannot be
    registered. (decision) Nor can an Outlet receipt: it earns nothing at all (L3)."""
    if receipt.channel in NO_POINTS_CHANNELS:
        return False
    return any(line.seller == "retailer" for line in receipt.lines)


# --- returns (L11) -------------------------------------------------------------------------


def return_excess(receipt: Receipt, lines: Iterable[tuple[str, int]]) -> list[dict[str, Any]]:
    """The lines of a return that exceed what was bought (unknown lines included); [] when fine."""
    asked: dict[str, int] = {}
    for line_id, quantity in lines:
        asked[line_id] = asked.get(line_id, 0) + quantity
    problems = []
    for line_id, quantity in sorted(asked.items()):
        line = receipt.line(line_id)
        bought = line.quantity if line else 0
        already = receipt.returned.get(line_id, 0)
        if already + quantity > bought:
            problems.append({"line_id": line_id, "bought": bought, "returned": already, "asked": quantity})
    return problems


def returned_after(receipt: Receipt, lines: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Cumulative returned quantities per line once `lines` come back."""
    total = dict(receipt.returned)
    for line_id, quantity in lines:
        total[line_id] = total.get(line_id, 0) + quantity
    return total


@dataclass(frozen=True)
class Clawback:
    """L11 after maturation: points taken from lots, and the shortfall that becomes debt."""

    takes: tuple[tuple[str, int], ...]
    debt: int


def plan_clawback(amount: int, own_lot: Lot | None, others: Sequence[Lot], today: date, max_lots: int) -> Clawback:
    """L11 (decision): a return after maturation claws back from the receipt's own lot first, then
    from the soonest-expiring available lots; what cannot be taken (no points left, or more lots
    than one transaction holds) becomes a debt, settled from the next points that become available.
    """
    takes: list[tuple[str, int]] = []
    left = amount
    if own_lot is not None and own_lot.status == "available" and own_lot.remaining > 0 and left > 0:
        take = min(left, own_lot.remaining)
        takes.append((own_lot.lot_id, take))
        left -= take
    own_id = own_lot.lot_id if own_lot else None
    for lot_id, n in plan_spend([lot for lot in others if lot.lot_id != own_id], left, today, partial=True):
        if len(takes) >= max_lots:
            break
        takes.append((lot_id, n))
        left -= n
    return Clawback(takes=tuple(takes), debt=left)


# --- spending and debt (L10, L11) ----------------------------------------------------------


def spendable(lot: Lot, today: date) -> bool:
    return lot.status == "available" and lot.remaining > 0 and not is_due_to_expire(lot.expires_on, today)


def plan_spend(lots: Sequence[Lot], points: int, today: date, partial: bool = False) -> list[tuple[str, int]]:
    """L10: take `points` from the lots that expire soonest first; [(lot_id, points)].

    Returns [] when the spendable lots do not cover `points` (unless `partial`: then as much as
    there is). Lots past their last valid day are never spent, even before the nightly run.
    """
    if points <= 0:
        return []
    plan: list[tuple[str, int]] = []
    left = points
    for lot in sorted((lot for lot in lots if spendable(lot, today)), key=lambda x: (x.expires_on, x.lot_id)):
        take = min(left, lot.remaining)
        plan.append((lot.lot_id, take))
        left -= take
        if left == 0:
            return plan
    return plan if partial else []


def settle_debt(debt: int, points: int) -> tuple[int, int]:
    """L11: points becoming available first pay the debt: (settled, left for the member)."""
    settled = min(max(0, debt), max(0, points))
    return settled, points - settled


# --- balance (L12) -------------------------------------------------------------------------


def expiring(lots: Iterable[Lot], today: date, policy: LoyaltyPolicy) -> list[Expiring]:
    """L12: available points that expire within the window, summed per expiry date."""
    horizon = today + timedelta(days=policy.expiring_window_days)
    per_day: dict[date, int] = {}
    for lot in lots:
        if spendable(lot, today) and lot.expires_on <= horizon:
            per_day[lot.expires_on] = per_day.get(lot.expires_on, 0) + lot.remaining
    return [Expiring(points=p, expires_on=d) for d, p in sorted(per_day.items())]


def expiring_totals(per_day: Mapping[date, int], today: date, policy: LoyaltyPolicy) -> list[Expiring]:
    """L12: the same list from the member's materialised points per expiry date (past dates,
    which are no longer spendable, and emptied dates are left out)."""
    horizon = today + timedelta(days=policy.expiring_window_days)
    return [Expiring(points=p, expires_on=d) for d, p in sorted(per_day.items()) if p > 0 and today <= d <= horizon]


def balance_of(lots: Iterable[Lot], debt: int = 0) -> Balance:
    """The balances the lots add up to: the ledger invariant the member item must equal."""
    pending = available = 0
    for lot in lots:
        if lot.status == "pending":
            pending += lot.remaining
        elif lot.status == "available":
            available += lot.remaining
    return Balance(pending=pending, available=available, debt=debt)


def shard_of(key: str, shards: int) -> int:
    """A stable shard for a lot, spreading each date's due lots over `shards` GSI partitions."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % max(1, shards)
