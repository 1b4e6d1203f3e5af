"""Every query and transaction of the trade-in domain; returns the rules' dataclasses.

A claim is written with a condition on its `version` (optimistic locking): two changes that
race never overwrite each other silently, the loser gets `StaleClaim`.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import asdict, replace
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action

from chalicelib import clock, pager
from chalicelib.address import Address
from chalicelib.config import settings
from chalicelib.db import TransactionCancelled, applied, set_value, transaction
from chalicelib.tradein import counts, rules
from chalicelib.tradein.models import (
    CAMPAIGN_SCOPE,
    OUTBOX_PENDING,
    CampaignModel,
    ClaimKeyModel,
    ClaimModel,
    TimelineAttribute,
)


class StaleClaim(Exception):
    """The claim changed since it was read (or a condition of the same transaction failed);
    nothing was written. The use cases decide what the client hears (`lifecycle.answers`)."""

    def __init__(self, reference: str):
        super().__init__(reference)
        self.reference = reference


class KeyTaken(Exception):
    """A uniqueness item (`address#…` or `purchase#…`, T3) is held by another claim."""

    def __init__(self, key: str):
        super().__init__(key)
        self.kind = key.split("#", 1)[0]


class ClaimNumberTaken(Exception):
    """The random claim number is already in use: draw another."""


class Contended(Exception):
    """DynamoDB cancelled the transaction because another one held an item (TransactionConflict):
    nothing was written, the same write may be tried again."""


# --- campaigns -----------------------------------------------------------------------------------


def campaign_item(campaign: rules.Campaign) -> CampaignModel:
    """The stored form of a campaign's terms (written by `campaigns.put_campaign`)."""
    return CampaignModel(
        CAMPAIGN_SCOPE,
        campaign.campaign_id,
        name=campaign.name,
        starts_at=clock.iso(campaign.starts_at),
        ends_at=clock.iso(campaign.ends_at),
        min_line_price_cents=campaign.min_line_price_cents,
        excluded_brands=list(campaign.excluded_brands),
        channels=list(campaign.channels),
        store_ids=list(campaign.store_ids),
        laptop_category=campaign.laptop_category,
        reward_cents=campaign.reward_cents,
        window_first_day=campaign.window_first_day,
        window_last_day=campaign.window_last_day,
        device_last_day=campaign.device_last_day,
        min_screen_inches=campaign.min_screen_inches,
        max_device_age_years=campaign.max_device_age_years,
        device_criteria=campaign.device_criteria,
    )


def campaign_from_item(item: CampaignModel) -> rules.Campaign:
    return rules.Campaign(
        campaign_id=item.campaign_id,
        name=item.name,
        starts_at=datetime.fromisoformat(item.starts_at),
        ends_at=datetime.fromisoformat(item.ends_at),
        min_line_price_cents=int(item.min_line_price_cents),
        excluded_brands=tuple(map(str, item.excluded_brands)),
        channels=tuple(map(str, item.channels)),
        store_ids=tuple(map(str, item.store_ids or ())),
        laptop_category=item.laptop_category,
        reward_cents=int(item.reward_cents),
        window_first_day=int(item.window_first_day),
        window_last_day=int(item.window_last_day),
        device_last_day=int(item.device_last_day),
        min_screen_inches=float(item.min_screen_inches),
        max_device_age_years=int(item.max_device_age_years),
        device_criteria=item.device_criteria,
    )


def get_campaign(campaign_id: str) -> rules.Campaign | None:
    try:
        return campaign_from_item(CampaignModel.get(CAMPAIGN_SCOPE, campaign_id, consistent_read=True))
    except DoesNotExist:
        return None


def list_campaigns() -> list[rules.Campaign]:
    return [campaign_from_item(item) for item in CampaignModel.query(CAMPAIGN_SCOPE)]


def has_open_claims(campaign_id: str) -> bool:
    """Whether any claim of the campaign is still in progress (sparse `open_index`)."""
    return any(True for _ in ClaimModel.open_index.query(campaign_id, limit=1))


# --- claims: conversion --------------------------------------------------------------------------


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _participant(raw: dict[str, Any]) -> rules.Participant:
    return rules.Participant(
        **{**raw, "birth_date": date.fromisoformat(raw["birth_date"]), "address": Address(**raw["address"])}
    )


def participant_json(participant: rules.Participant) -> dict[str, Any]:
    raw = asdict(participant)
    raw["birth_date"] = participant.birth_date.isoformat()
    return raw


def _device_json(device: rules.OldDevice) -> dict[str, Any]:
    raw = asdict(device)
    raw["purchased_on"] = device.purchased_on.isoformat()
    return raw


def _claim(item: ClaimModel) -> rules.Claim:
    device = dict(item.old_device)
    device["purchased_on"] = date.fromisoformat(device["purchased_on"])
    return rules.Claim(
        claim_number=item.claim_number,
        campaign_id=item.campaign_id,
        receipt_id=item.receipt_id,
        laptop_line_id=item.laptop_line_id,
        status=rules.status(item.status),
        version=int(item.version),
        registered_at=datetime.fromisoformat(item.registered_at),
        purchase_date=date.fromisoformat(item.purchase_date),
        participant=_participant(item.participant),
        old_device=rules.OldDevice(**device),
        client_ip=item.client_ip,
        registration_by=date.fromisoformat(item.registration_by),
        device_by=date.fromisoformat(item.device_by),
        timeline=tuple(
            rules.TimelineEntry(datetime.fromisoformat(e.at), rules.status(e.status), e.event, e.detail)
            for e in item.timeline or []
        ),
        flags=tuple(map(str, item.flags or ())),
        proof_key=item.proof_key,
        proof_upload_key=item.proof_upload_key,
        proof_etag=item.proof_etag,
        proof_sha256=item.proof_sha256,
        proof_content_type=item.proof_content_type,
        complete_by=_date(item.complete_by),
        return_request_by=_date(item.return_request_by),
        reward_cents=int(item.reward_cents) if item.reward_cents is not None else None,
        reason=item.reason,
        success_notified_on=_date(item.success_notified_on),
        approved_status=rules.status(item.approved_status) if item.approved_status else None,
        payout_batch_id=item.payout_batch_id,
        payout_attempt=int(item.payout_attempt or 0),
        execution_date=_date(item.execution_date),
        lapse_reason=item.lapse_reason,
        received_on=_date(item.received_on),
        void_return_id=item.void_return_id,
        outbox=tuple(
            rules.OutboxItem(o["item_id"], o["kind"], o["facts"], _date(o.get("owed_on"))) for o in item.outbox or []
        ),
    )


def _entry(entry: rules.TimelineEntry) -> TimelineAttribute:
    return TimelineAttribute(  # type: ignore[no-untyped-call]
        at=clock.iso(entry.at), status=entry.status, event=entry.event, detail=entry.detail
    )


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _state(claim: rules.Claim, today: date) -> dict[str, Any]:
    """The claim's mutable attributes as stored, including the sparse index keys."""
    due = rules.due_on(claim, today)
    return {
        "status": claim.status,
        "version": claim.version,
        "participant": participant_json(claim.participant),
        "flags": list(claim.flags),
        "proof_key": claim.proof_key,
        "proof_upload_key": claim.proof_upload_key,
        "proof_etag": claim.proof_etag,
        "proof_sha256": claim.proof_sha256,
        "proof_content_type": claim.proof_content_type,
        "complete_by": _iso(claim.complete_by),
        "return_request_by": _iso(claim.return_request_by),
        "reward_cents": claim.reward_cents,
        "reason": claim.reason,
        "success_notified_on": _iso(claim.success_notified_on),
        "approved_status": claim.approved_status,
        "payout_batch_id": claim.payout_batch_id,
        "payout_attempt": claim.payout_attempt,
        "execution_date": _iso(claim.execution_date),
        "lapse_reason": claim.lapse_reason,
        "received_on": _iso(claim.received_on),
        "void_return_id": claim.void_return_id,
        "outbox": [{**asdict(o), "owed_on": _iso(o.owed_on)} for o in claim.outbox] or None,
        "outbox_pending": OUTBOX_PENDING if claim.outbox else None,
        "due_status": claim.status if due else None,
        "due_on": _iso(due),
        "open_campaign": None if claim.status in rules.SETTLED else claim.campaign_id,
        "touched_shard": touched_shard(claim.claim_number),
        "touched_on": clock.today().isoformat(),  # on tonight's reconciliation (issue 16)
    }


def touched_shard(claim_number: str) -> int:
    return zlib.crc32(claim_number.encode()) % settings().reconciliation_shards


# --- claims: reads -------------------------------------------------------------------------------


# DynamoDB refuses an empty key or one over 2,048 bytes (a 400 from AWS, a 500 for our caller):
# no id we hand out comes close, so such a look-up simply finds nothing.
_MAX_ID_BYTES = 256


def plausible_id(value: str) -> bool:
    return 0 < len(value.encode()) <= _MAX_ID_BYTES


def get_claim(claim_number: str) -> rules.Claim | None:
    if not plausible_id(claim_number):
        return None
    try:
        return _claim(ClaimModel.get(claim_number, consistent_read=True))
    except DoesNotExist:
        return None


def claim_number_for(key: str) -> str | None:
    """The claim that holds a uniqueness key (address, purchase or proof), if any."""
    try:
        return ClaimKeyModel.get(key, consistent_read=True).claim_number
    except DoesNotExist:
        return None


def claim_for_participant(claim_number: str, lookup_key: str) -> rules.Claim | None:
    """T14: a claim by its participant look-up key (`rules.tracking_key` of the number and the
    postcode). A wrong postcode and an unknown number are the same miss: one GetItem that finds
    nothing. A number no claim can have (empty, huge) is not looked up at all."""
    if not plausible_id(claim_number):
        return None
    number = claim_number_for(lookup_key)
    return get_claim(number) if number else None


def due_claim_numbers(status: str, on_or_before: date) -> Iterator[str]:
    """Claims in `status` whose due date is on or before the given day (`due_index`, a Query)."""
    condition = ClaimModel.due_on <= on_or_before.isoformat()
    for item in ClaimModel.due_index.query(status, range_key_condition=condition):
        yield item.claim_number


def touched_claim_numbers(shard: int, first: date, last: date, limit: int, cursor: Any) -> tuple[list[str], Any]:
    """Claim numbers of one shard last written between `first` and `last`, one page (issue 16)."""
    condition = ClaimModel.touched_on.between(first.isoformat(), last.isoformat())
    query = ClaimModel.touched_index.query(shard, condition, limit=limit, last_evaluated_key=cursor)
    return [item.claim_number for item in query], query.last_evaluated_key


def outbox_claim_numbers() -> Iterator[str]:
    """Claims that still owe an e-mail (`outbox_index`, a Query)."""
    for item in ClaimModel.outbox_index.query(OUTBOX_PENDING):
        yield item.claim_number


def claims_in_status(status: str) -> Iterator[rules.Claim]:
    """Every claim in one status (`status_index`, a Query)."""
    for item in ClaimModel.status_index.query(status):
        yield _claim(item)


def list_claims(
    status: str, limit: int, start_key: dict[str, Any] | None
) -> tuple[list[rules.Claim], dict[str, Any] | None]:
    """One page of claims in a status, oldest registration first."""
    query = partial(ClaimModel.status_index.query, status)
    found, last = pager.page(query, limit, start_key, ("claim_number", "registered_at", "status"))
    return [_claim(item) for item in found], last


# --- claims: writes ------------------------------------------------------------------------------


def claim_update_args(
    before: rules.Claim, after: rules.Claim, entries: list[rules.TimelineEntry], today: date
) -> tuple[ClaimModel, list[Action], Any]:
    actions: list[Action] = []
    for name, value in _state(after, today).items():
        attribute = getattr(ClaimModel, name)
        actions.append(set_value(attribute, value))  # participant is a dict: encode it ourselves
    if entries:
        actions.append(ClaimModel.timeline.set(ClaimModel.timeline.append([_entry(e) for e in entries])))
    condition = (ClaimModel.version == before.version) & (ClaimModel.status == before.status)
    return ClaimModel(before.claim_number), actions, condition


def create_claim(claim: rules.Claim, unique_keys: list[str]) -> None:
    """Write a new claim and its uniqueness items in one transaction (T3).

    Raises ClaimNumberTaken, Contended, or KeyTaken naming the uniqueness key already held.
    """
    item = ClaimModel(
        claim.claim_number,
        campaign_id=claim.campaign_id,
        receipt_id=claim.receipt_id,
        laptop_line_id=claim.laptop_line_id,
        registered_at=clock.iso(claim.registered_at),
        purchase_date=claim.purchase_date.isoformat(),
        registration_by=claim.registration_by.isoformat(),
        device_by=claim.device_by.isoformat(),
        old_device=_device_json(claim.old_device),
        client_ip=claim.client_ip,
        timeline=[_entry(e) for e in claim.timeline],
        receipt_lookup=claim.receipt_id.strip().lower(),
        email_lookup=claim.participant.email.strip().lower(),
    )
    for name, value in _state(claim, clock.local_date(claim.registered_at)).items():
        if value is not None:
            setattr(item, name, value)
    try:
        with transaction() as tx:
            tx.save(item, condition=ClaimModel.claim_number.does_not_exist())
            for key in unique_keys:
                tx.save(
                    ClaimKeyModel(key, claim_number=claim.claim_number), condition=ClaimKeyModel.key.does_not_exist()
                )
            counts.add_to(tx, [(claim.campaign_id, None, claim.status)])
    except TransactionCancelled as exc:
        codes = list(exc.args[0])
        if codes and codes[0] == "ConditionalCheckFailed":
            raise ClaimNumberTaken() from None
        if "TransactionConflict" in codes and "ConditionalCheckFailed" not in codes:
            raise Contended() from None
        for key, code in zip(unique_keys, codes[1:], strict=False):
            if code == "ConditionalCheckFailed":
                raise KeyTaken(key) from None
        raise


def save_change(
    before: rules.Claim,
    after: rules.Claim,
    entries: list[rules.TimelineEntry],
    today: date,
    claim_key: str | None = None,
) -> rules.Claim:
    """Write a claim's change (status, facts, timeline entries) if nobody changed it meanwhile.

    `claim_key`, when given, is a uniqueness item (a proof's hash, T13) created in the same
    transaction. A change of the claim alone (no key, no status change: an e-mail struck, a flag)
    is one conditional UpdateItem, half a transaction's write cost. Raises StaleClaim when the
    claim (or the key) was taken first.
    """
    model, actions, condition = claim_update_args(before, after, entries, today)
    moves = counts.claim_moves([(before, after)])
    if not claim_key and not counts.deltas(moves):
        if not applied(lambda: model.update(actions, condition=condition)):
            raise StaleClaim(before.claim_number)
        return replace(after, timeline=before.timeline + tuple(entries))
    try:
        with transaction() as tx:
            tx.update(model, actions, condition=condition)
            if claim_key:
                tx.save(
                    ClaimKeyModel(claim_key, claim_number=before.claim_number),
                    condition=ClaimKeyModel.key.does_not_exist(),
                )
            counts.add_to(tx, moves)
    except TransactionCancelled:
        raise StaleClaim(before.claim_number) from None
    return replace(after, timeline=before.timeline + tuple(entries))


def count_ip(key: str) -> int:
    """Count one more registration for an IP address on a day; returns the new count (T13)."""
    item = ClaimKeyModel(key)
    item.update(actions=[ClaimKeyModel.counter.add(1)])
    return int(item.counter or 0)


# --- e-mails: claimed before sending, so that each goes out once -----------------------------


def _utc(moment: datetime) -> str:
    # UTC so that the strings compare as instants (Amsterdam's offset changes twice a year).
    return moment.astimezone(UTC).isoformat()


def claim_email(
    key: str, claim_number: str, token: str, now: datetime, lease_from: datetime
) -> tuple[str, date | None]:
    """Claim an outbox e-mail for sending with a conditional write: ("claimed", None) when this
    sender may send it; ("sent", day) when it went out already (strike it only); ("busy", None)
    when another sender holds it, claimed since `lease_from` or later."""
    item = ClaimKeyModel(key, claim_number=claim_number, token=token, claimed_at=_utc(now))
    condition = ClaimKeyModel.key.does_not_exist() | (
        ClaimKeyModel.sent_at.does_not_exist() & (ClaimKeyModel.claimed_at < _utc(lease_from))
    )
    if not applied(lambda: item.save(condition=condition)):
        try:
            held = ClaimKeyModel.get(key, consistent_read=True)
        except DoesNotExist:
            return "busy", None  # released meanwhile: the next attempt claims it
        if held.sent_at:
            return "sent", clock.local_date(datetime.fromisoformat(held.sent_at))
        return "busy", None
    return "claimed", None


def release_email(key: str, token: str) -> None:
    """Give up a claim whose send failed before SES took the e-mail: the next run may send it."""
    applied(
        lambda: ClaimKeyModel(key).delete(
            condition=(ClaimKeyModel.token == token) & ClaimKeyModel.sent_at.does_not_exist()
        )
    )


def mark_email_sent(key: str, now: datetime) -> None:
    """SES accepted the e-mail: it is never sent again, whatever happens to the strike after."""
    ClaimKeyModel(key).update(actions=[ClaimKeyModel.sent_at.set(_utc(now))])
