"""Members of the loyalty programme: sign-up with its event points (L8, L9), the profile with its
balances and expiring points (L12, L14), the history, and what every other use case of the
ledger shares (the policy, the active-member check of L13, history entries).

Every ledger change is one transaction holding the lot change, the balance change and a history
entry whose id is deterministic, so a retry can never count anything twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pynamodb.transactions import TransactWrite

from chalicelib import clock, db
from chalicelib.address import Address
from chalicelib.config import Settings, settings
from chalicelib.errors import Conflict, Gone, NotFound, Unprocessable
from chalicelib.ids import random_code
from chalicelib.loyalty import history_store, lot_store, member_store, rules
from chalicelib.loyalty.rules import (
    Balance,
    EntryType,
    Expiring,
    LedgerEntry,
    Lot,
    LoyaltyPolicy,
    Member,
    StoredReceipt,
)
from chalicelib.observability import logger

RETRIES = 3
CARD_DIGITS = "0123456789"


def policy() -> LoyaltyPolicy:
    """The programme's tunable values, from settings at call time (G5)."""
    return policy_from(settings())


def policy_from(cfg: Settings) -> LoyaltyPolicy:
    """The policy of these settings (tests build theirs from `Settings()` this way)."""
    return LoyaltyPolicy(
        cents_per_point=cfg.cents_per_point,
        return_period_days=cfg.return_period_days,
        base_validity_years=cfg.base_points_validity_years,
        event_validity_years=cfg.event_points_validity_years,
        welcome_points=cfg.welcome_points,
        consent_points=cfg.consent_points,
        expiring_window_days=cfg.expiring_window_days,
    )


@dataclass(frozen=True)
class Profile:
    member: Member
    expiring: list[Expiring]


def not_enough_points(member: Member, points: int) -> Unprocessable:
    """L10's refusal of a spend beyond the available points (conversion, adjustment alike)."""
    details = {"available": member.balance.available, "required": points}
    return Unprocessable("INSUFFICIENT_POINTS", "Not enough available points", details)


def require_active_member(member_id: str) -> Member:
    """The member, or 404 MEMBER_NOT_FOUND, or 410 ACCOUNT_MERGED once merged into another (L13)."""
    member = member_store.get_member(member_id)
    if member is None:
        raise NotFound("MEMBER_NOT_FOUND", "No member with this id")
    refuse_if_merged(member)
    return member


def refuse_merged(member_id: str) -> Member | None:
    """L13: 410 ACCOUNT_MERGED for a merged (or merging) account; nothing for active or unknown ones.

    Every member route calls this first, so a merged account's token gets 410 whatever it sends.
    Returns the member as read, so that the route's use case need not read it again.
    """
    member = member_store.get_member(member_id)
    if member is not None:
        refuse_if_merged(member)
    return member


def refuse_if_merged(member: Member) -> None:
    if member.status != "active":
        raise Gone(
            "ACCOUNT_MERGED", "This account was merged into another account", {"merged_into": member.merged_into}
        )


def _event_lot(member_id: str, source: str, points: int, today: date, pol: LoyaltyPolicy, debt_paid: int = 0) -> Lot:
    return Lot(
        member_id=member_id,
        lot_id=f"{source}#{member_id}",
        source=source,
        kind="event",
        points=points,
        remaining=points - debt_paid,
        earned_on=today,
        matures_on=today,
        expires_on=rules.event_expires_on(today, pol),
        status="available",
    )


def join(
    member_id: str,
    email: str,
    first_name: str,
    last_name: str,
    address: Address | None,
    newsletter: bool,
    partner_data_sharing: bool,
) -> Profile:
    """Create a member with the welcome points (L8) and, when sharing is on, the consent points (L9).

    The member item and the lots are written in one transaction on does-not-exist conditions, so
    a retried sign-up answers 409 and never awards twice.
    """
    pol, today, at = policy(), clock.today(), clock.now()
    lots: list[Lot] = []
    if pol.welcome_points > 0:
        lots.append(_event_lot(member_id, "welcome", pol.welcome_points, today, pol))
    if partner_data_sharing and pol.consent_points > 0:
        lots.append(_event_lot(member_id, "marketing_consent", pol.consent_points, today, pol))
    member = Member(
        member_id=member_id,
        email=email,
        first_name=first_name,
        last_name=last_name,
        address=address,
        newsletter=newsletter,
        partner_data_sharing=partner_data_sharing,
        card_number=random_code(16, CARD_DIGITS),
        joined_on=today,
        balance=Balance(available=sum(lot.points for lot in lots)),
        consent_awarded=partner_data_sharing,
    )
    try:
        with db.transaction() as tx:
            for lot in lots:
                lot_store.add_lot_put(tx, lot)
                history_store.add_entry(
                    tx, ledger_entry(member_id, f"earned#{lot.lot_id}", at, "earned", lot.points, lot.source)
                )
            member_store.add_member_put(tx, member)  # after the lots: it carries their expiring summary (L12)
    except db.TransactionCancelled:
        if member_store.get_member(member_id) is not None:
            raise Conflict("MEMBER_EXISTS", "This member already exists") from None
        raise
    logger.info("member joined", extra={"member_id": member_id, "lots": len(lots)})
    return Profile(member=member, expiring=rules.expiring(lots, today, pol))


def profile(member_id: str) -> Profile:
    """L12: the profile with pending and available points and what expires within 90 days.

    One GetItem: the member item carries its available points per expiry date (store.py keeps it
    in the transactions that change the lots), so the cost does not grow with the lot history.
    """
    found = member_store.get_member_and_expiring(member_id)
    if found is None:
        raise NotFound("MEMBER_NOT_FOUND", "No member with this id")
    member, per_day = found
    refuse_if_merged(member)
    return Profile(member=member, expiring=rules.expiring_totals(per_day, clock.today(), policy()))


def update_profile(member_id: str, changes: Mapping[str, Any]) -> Profile:
    """L14: change name, address, newsletter and consent; L13: never the e-mail address.

    Turning data sharing on awards the consent points once per member ever (L9): the lot id is
    deterministic and the member's `consent_awarded` flag is set in the same transaction.
    """
    if "email" in changes:
        raise Unprocessable("EMAIL_IMMUTABLE", "The e-mail address cannot be changed; ask for an account migration")
    for _ in range(RETRIES):
        member = require_active_member(member_id)
        # Names and flags given as None are left as they are; an address of None removes it.
        wanted = {
            name: changes[name]
            for name in member_store.PROFILE_FIELDS
            if name in changes and (changes[name] is not None or name == "address")
        }
        award = bool(changes.get("partner_data_sharing")) and not member.consent_awarded
        if not wanted:
            return profile(member_id)
        try:
            with db.transaction() as tx:
                if award:
                    _award_consent(tx, member, wanted)
                else:
                    member_store.add_profile_change(tx, member_id, wanted)
            return profile(member_id)
        except db.TransactionCancelled:
            continue
    raise Conflict("CONCURRENT_UPDATE", "The account changed meanwhile; try again")


def _award_consent(tx: TransactWrite, member: Member, changes: Mapping[str, Any]) -> None:
    """L9 (decision: 100 points, configurable), settling a debt first (L11)."""
    pol, today = policy(), clock.today()
    points = pol.consent_points
    settled, _left = rules.settle_debt(member.balance.debt, points)
    lot = _event_lot(member.member_id, "marketing_consent", points, today, pol, debt_paid=settled)
    lot_store.add_lot_put(tx, lot)  # before the balance change, which carries its expiring summary (L12)
    member_store.add_balance_change(
        tx,
        member.member_id,
        available=lot.remaining,
        debt=-settled,
        expect_debt=member.balance.debt,
        profile=changes,
        consent_award=True,
    )
    at = clock.now()
    history_store.add_entry(
        tx, ledger_entry(member.member_id, f"earned#{lot.lot_id}", at, "earned", points, "marketing_consent")
    )
    if settled:
        history_store.add_entry(
            tx, ledger_entry(member.member_id, f"settled#{lot.lot_id}", at, "adjusted", -settled, "debt_settlement")
        )


def history(member_id: str, limit: int, cursor: dict[str, Any] | None) -> tuple[list[LedgerEntry], Any]:
    """L12: one page of the member's history, newest first."""
    require_active_member(member_id)
    return history_store.history_of(member_id, limit, cursor)


def receipt_lot(stored: StoredReceipt, member_id: str, pol: LoyaltyPolicy) -> Lot:
    """The pending lot a receipt earns (L1, L6, L7): while pending it holds the receipt's points."""
    receipt = stored.receipt
    purchase_date = clock.local_date(receipt.purchased_at)
    return Lot(
        member_id=member_id,
        lot_id=f"receipt#{receipt.receipt_id}",
        source="receipt",
        kind="base",
        points=stored.points,
        remaining=stored.points,
        earned_on=purchase_date,
        matures_on=rules.matures_on(purchase_date, pol),
        expires_on=rules.base_expires_on(purchase_date, pol),
        status="pending",
        receipt_id=receipt.receipt_id,
    )


def lot_cause(lot: Lot) -> str:
    """What a lot came from, as history shows it: `receipt:R-1`, `welcome`, `marketing_consent`."""
    return f"receipt:{lot.receipt_id}" if lot.receipt_id else lot.source


def ledger_entry(member_id: str, entry_id: str, at: datetime, kind: EntryType, points: int, cause: str) -> LedgerEntry:
    return LedgerEntry(member_id=member_id, entry_id=entry_id, at=at, type=kind, points=points, cause=cause)
