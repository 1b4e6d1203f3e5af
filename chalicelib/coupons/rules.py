"""Pure coupon rules (C1-C9): no clock, no environment, no I/O. Time and policy are arguments."""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from chalicelib.dates import valid_until
from chalicelib.ids import READABLE
from chalicelib.sales import Line

Status = Literal["active", "used", "expired"]
Reason = Literal[
    "NOT_FOUND",
    "NOT_YOUR_COUPON",
    "EXPIRED",
    "USED",
    "CHANNEL_EXCLUDED",
    "ONLY_SERVICES",
    "DUPLICATE_AMOUNT",
    "BASKET_TOO_SMALL",
]

# C9: 13 random characters of a 30-letter alphabet carry 13 * log2(30) = 63.8 bits, plus one
# check character (Luhn mod N) that catches every single mistyped character and nearly every
# swap of two neighbours before the table is asked.
CODE_ALPHABET = READABLE
CODE_BODY_LENGTH = 13
CODE_LENGTH = CODE_BODY_LENGTH + 1
SEPARATORS = " -"

SERVICE_KINDS = frozenset({"service", "subscription", "insurance"})


@dataclass(frozen=True)
class Tier:
    amount_cents: int
    points: int


@dataclass(frozen=True)
class CouponPolicy:
    tiers: tuple[Tier, ...]
    validity_years: int
    min_basket_cents: int
    excluded_channels: frozenset[str]


@dataclass(frozen=True)
class Coupon:
    code: str
    member_id: str
    amount_cents: int
    points: int
    issued_on: date
    expires_on: date
    status: Status
    redeemed_receipt_id: str | None = None
    transferred_from: str | None = None


@dataclass(frozen=True)
class Redemption:
    receipt_id: str
    member_id: str
    request_hash: str
    codes: tuple[str, ...]
    discount_cents: int
    restored_by_return_id: str | None = None


@dataclass(frozen=True)
class Accepted:
    code: str
    amount_cents: int


@dataclass(frozen=True)
class Rejected:
    code: str
    reason: Reason


@dataclass(frozen=True)
class Validation:
    accepted: tuple[Accepted, ...] = ()
    rejected: tuple[Rejected, ...] = ()

    @property
    def discount_cents(self) -> int:
        return sum(a.amount_cents for a in self.accepted)

    @property
    def all_accepted(self) -> bool:
        return not self.rejected and bool(self.accepted)


@dataclass(frozen=True)
class Basket:
    channel: str
    lines: tuple[Line, ...]


def code_bits(alphabet: str = CODE_ALPHABET, length: int = CODE_BODY_LENGTH) -> float:
    """Bits of randomness in a code's random part (C9: at least 60)."""
    return length * math.log2(len(alphabet))


def tier_for(amount_cents: int, tiers: Iterable[Tier]) -> Tier | None:
    """The conversion tier of a coupon amount, or None when no tier offers it (C1)."""
    return next((t for t in tiers if t.amount_cents == amount_cents), None)


def coupon_expires_on(issued_on: date, validity_years: int) -> date:
    """Last valid day of a coupon: the day before the N-th anniversary of its issue (C2)."""
    return valid_until(issued_on, validity_years)


def effective_status(coupon: Coupon, today: date) -> Status:
    """What a coupon is today: an active coupon past its last day reads as expired (C2)."""
    if coupon.status == "active" and coupon.expires_on < today:
        return "expired"
    return coupon.status


def expiry_shard(code: str, shards: int) -> str:
    """The shard of the expiry index a coupon lives in while active, spread by its code (C2)."""
    return f"S{shard_number(code, shards)}"


def shard_number(code: str, shards: int) -> int:
    """The n of `expiry_shard`: the coupon's shard of the changed index too (issue 16)."""
    return zlib.crc32(code.encode()) % shards


def check_character(body: str, alphabet: str = CODE_ALPHABET) -> str:
    """The Luhn mod N check character of a code's random part (C9)."""
    n = len(alphabet)
    total = 0
    factor = 2
    for ch in reversed(body):
        addend = factor * alphabet.index(ch)
        total += addend // n + addend % n
        factor = 1 if factor == 2 else 2
    return alphabet[(n - total % n) % n]


def make_code(body: str) -> str:
    """A full coupon code: the random part followed by its check character (C9)."""
    return body + check_character(body)


def normalise_code(raw: str) -> str:
    """A typed code as stored: upper case, without spaces and dashes."""
    return "".join(ch for ch in raw.upper() if ch not in SEPARATORS)


def code_is_well_formed(code: str, alphabet: str = CODE_ALPHABET) -> bool:
    """True when a (normalised) code has the right length, alphabet and check character (C9)."""
    if len(code) != CODE_LENGTH or any(ch not in alphabet for ch in code):
        return False
    return check_character(code[:-1], alphabet) == code[-1]


def is_coupon_eligible(line: Line) -> bool:
    """C6: only the retailer's own products count (no services, subscriptions, insurance, POSA)."""
    return line.kind == "product" and line.seller == "retailer"


def eligible_basket_cents(lines: Iterable[Line], returned: Mapping[str, int] | None = None) -> int:
    """The coupon-eligible amount of a basket, less any quantities returned (C6)."""
    returned = returned or {}
    return sum(
        line.unit_price_cents * max(line.quantity - returned.get(line.line_id, 0), 0)
        for line in lines
        if is_coupon_eligible(line)
    )


def only_services(lines: Sequence[Line]) -> bool:
    """C5: the basket holds nothing but services, subscriptions or insurance."""
    return bool(lines) and all(line.kind in SERVICE_KINDS for line in lines)


def _single_reason(
    code: str, coupon: Coupon | None, member_id: str, basket: Basket, today: date, policy: CouponPolicy
) -> Reason | None:
    """The first of API.md's per-code reasons that applies (C3, C5), or None."""
    if coupon is None or not code_is_well_formed(code):
        return "NOT_FOUND"
    if coupon.member_id != member_id:
        return "NOT_YOUR_COUPON"
    # API.md's order: a coupon past its last day is EXPIRED even when it was also used.
    if coupon.status == "expired" or coupon.expires_on < today:
        return "EXPIRED"
    if coupon.status == "used":
        return "USED"
    if basket.channel in policy.excluded_channels:
        return "CHANNEL_EXCLUDED"
    if only_services(basket.lines):
        return "ONLY_SERVICES"
    return None


def validate_codes(
    member_id: str,
    basket: Basket,
    codes: Sequence[str],
    coupons: Mapping[str, Coupon],
    today: date,
    policy: CouponPolicy,
) -> Validation:
    """Accept or reject every code for this shopper and basket (C3-C6), in API.md's reason order.

    `codes` are normalised; `coupons` holds the stored coupons found by code. Each code gets the
    first reason that applies: NOT_FOUND, NOT_YOUR_COUPON, EXPIRED, USED, CHANNEL_EXCLUDED,
    ONLY_SERVICES, DUPLICATE_AMOUNT (C4: the first code of an amount keeps it), BASKET_TOO_SMALL.
    """
    reasons: dict[int, Reason] = {}
    survivors: list[tuple[int, Coupon]] = []
    for i, code in enumerate(codes):
        coupon = coupons.get(code)
        reason = _single_reason(code, coupon, member_id, basket, today, policy)
        if reason is not None:
            reasons[i] = reason
        elif coupon is not None:
            survivors.append((i, coupon))

    seen_amounts: set[int] = set()
    distinct: list[tuple[int, Coupon]] = []
    for i, coupon in survivors:
        if coupon.amount_cents in seen_amounts:
            reasons[i] = "DUPLICATE_AMOUNT"
        else:
            seen_amounts.add(coupon.amount_cents)
            distinct.append((i, coupon))

    # (decision) C6: the total discount stays strictly below the eligible basket; the largest
    # coupons are accepted first and a coupon that would make the discount reach it is refused.
    eligible = eligible_basket_cents(basket.lines)
    accepted_at: set[int] = set()
    total = 0
    for i, coupon in sorted(distinct, key=lambda pair: (-pair[1].amount_cents, pair[0])):
        if eligible < policy.min_basket_cents or total + coupon.amount_cents >= eligible:
            reasons[i] = "BASKET_TOO_SMALL"
        else:
            total += coupon.amount_cents
            accepted_at.add(i)

    accepted = tuple(Accepted(codes[i], coupons[codes[i]].amount_cents) for i in sorted(accepted_at))
    rejected = tuple(Rejected(codes[i], reasons[i]) for i in sorted(reasons))
    return Validation(accepted=accepted, rejected=rejected)


def restore_due(lines: Sequence[Line], returned: Mapping[str, int], discount_cents: int) -> bool:
    """C8 (decision): restore the coupons of a receipt when all of it came back, or when what is
    left of its coupon-eligible amount is at or below the discount the coupons gave."""
    fully_returned = all(returned.get(line.line_id, 0) >= line.quantity for line in lines)
    return fully_returned or eligible_basket_cents(lines, returned) <= discount_cents
