"""Campaigns as data (G5, T1-T11): the back office creates and changes them, `make run` seeds
through the same `put_campaign`, and every rule, e-mail, label and payout reads the terms from
the campaign a claim belongs to.

A campaign is written with a condition on the version that was read, so two PUTs that race
never overwrite each other silently: the loser reads again and is judged against the winner
(an identical body is then a replay). A change of a term that claims rely on is written with a
condition on the campaign's claim counter (`counts.py`) in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from functools import partial
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib import clock, pager
from chalicelib.db import TransactionCancelled, transaction
from chalicelib.errors import BadRequest, Conflict, Unprocessable
from chalicelib.observability import logger
from chalicelib.tradein import counts, rules, store, views
from chalicelib.tradein.models import CAMPAIGN_SCOPE, CampaignModel, ClaimKeyModel

SEED_CAMPAIGN_ID = "meer-laptop-2017"
SEED_NAME = "meer laptop €100,- inruil"
CAMPAIGN_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
CHANNELS = ("store", "webshop", "marketplace", "outlet", "phone_subscriptions")
# The terms existing claims were admitted under (T1, T2, T5, T8, T9): changed only while a
# campaign has no claims. `ends_at` is judged apart (an early end is always allowed).
RELIED_TERMS = (
    "starts_at",
    "channels",
    "min_line_price_cents",
    "excluded_brands",
    "reward_cents",
    "window_first_day",
    "window_last_day",
    "device_last_day",
    "min_screen_inches",
    "max_device_age_years",
)


# --- pure: terms, defaults and their checks -------------------------------------------------------


def period(first: date, last: date) -> tuple[datetime, datetime]:
    """A campaign period from its first to its last day "tot en met": 00.01 to 23.59.59 local."""
    return (
        datetime.combine(first, dt_time(0, 1), tzinfo=clock.AMSTERDAM),
        datetime.combine(last, dt_time(23, 59, 59), tzinfo=clock.AMSTERDAM),
    )


def criteria_text(min_screen_inches: float, max_age_years: int) -> str:
    """The seed's description of the old laptop (T5), with a campaign's own numbers."""
    screen = f"{min_screen_inches:g}".replace(".", ",")
    return (
        f"werkend, compleet en onbeschadigd (redelijke slijtage geaccepteerd), beeldscherm minimaal {screen} inch, "
        f"maximaal {max_age_years} jaar oud, met alle accessoires inclusief werkende batterij en voeding"
    )


def seed_campaign(campaign_id: str = SEED_CAMPAIGN_ID) -> rules.Campaign:
    """The campaign of seed 001 (RULES.md "Campaign defaults"): every term a PUT leaves out."""
    starts, ends = period(date(2017, 8, 7), date(2017, 8, 27))
    return rules.Campaign(campaign_id, SEED_NAME, starts, ends)


def _second(instant: datetime) -> datetime:
    return datetime.fromisoformat(clock.iso(instant))  # stored with seconds precision


def build(campaign_id: str, terms: Mapping[str, Any]) -> rules.Campaign:
    """A campaign from the terms a PUT gives (API.md's shape), the seed's value for each left out."""
    seed = seed_campaign(campaign_id)
    window = terms.get("registration_window_days") or {}
    criteria = terms.get("device_criteria") or {}
    min_screen = criteria.get("min_screen_inches", seed.min_screen_inches)
    max_age = criteria.get("max_age_years", seed.max_device_age_years)
    return replace(
        seed,
        name=terms.get("name", seed.name),
        starts_at=_second(terms.get("starts_at", seed.starts_at)),
        ends_at=_second(terms.get("ends_at", seed.ends_at)),
        channels=tuple(terms.get("channels", seed.channels)),
        min_line_price_cents=terms.get("min_line_price_cents", seed.min_line_price_cents),
        excluded_brands=tuple(b.strip() for b in terms.get("excluded_brands", seed.excluded_brands)),
        reward_cents=terms.get("reward_cents", seed.reward_cents),
        window_first_day=window.get("first", seed.window_first_day),
        window_last_day=window.get("last", seed.window_last_day),
        device_last_day=terms.get("device_deadline_day", seed.device_last_day),
        min_screen_inches=float(min_screen),
        max_device_age_years=max_age,
        device_criteria=criteria.get("text") or criteria_text(min_screen, max_age),
    )


def check_terms(campaign: rules.Campaign) -> rules.Refusal | None:
    """G5: terms a campaign can run with: a period that ends after it starts, a registration
    window of days after purchase (G2) whose last day is not before its first, a device deadline
    not before the window closes, a positive reward, no negative price floor, some channel."""
    problems: list[dict[str, str]] = []

    def problem(field: str, reason: str) -> None:
        problems.append({"field": field, "reason": reason})

    if not campaign.name.strip():
        problem("name", "EMPTY")
    if campaign.ends_at <= campaign.starts_at:
        problem("ends_at", "NOT_AFTER_STARTS_AT")
    if not campaign.channels:
        problem("channels", "EMPTY")
    if campaign.min_line_price_cents < 0:
        problem("min_line_price_cents", "NEGATIVE")
    if campaign.reward_cents <= 0:
        problem("reward_cents", "NOT_POSITIVE")
    if campaign.window_first_day < 1:
        problem("registration_window_days.first", "BEFORE_DAY_1")
    if campaign.window_last_day < campaign.window_first_day:
        problem("registration_window_days.last", "BEFORE_FIRST")
    if campaign.device_last_day < campaign.window_last_day:
        problem("device_deadline_day", "BEFORE_WINDOW_CLOSES")
    if campaign.min_screen_inches <= 0:
        problem("device_criteria.min_screen_inches", "NOT_POSITIVE")
    if campaign.max_device_age_years < 1:
        problem("device_criteria.max_age_years", "LESS_THAN_ONE")
    if any(not brand for brand in campaign.excluded_brands):
        problem("excluded_brands", "EMPTY_BRAND")
    if not problems:
        return None
    return rules.Refusal("CAMPAIGN_TERMS_INVALID", "The campaign terms are not valid", {"problems": problems})


def relied_changes(current: rules.Campaign, wanted: rules.Campaign, now: datetime) -> list[str]:
    """The changed terms that existing claims rely on. Ending a campaign early (an `ends_at` not
    before now) is always allowed (seed 001, "Algemeen" art. 17), and so is a later end; an end
    moved into the past could cut off purchases already claimed."""
    changed = [name for name in RELIED_TERMS if getattr(current, name) != getattr(wanted, name)]
    if current.ends_at != wanted.ends_at and wanted.ends_at < now and wanted.ends_at < current.ends_at:
        changed.append("ends_at")
    return changed


def terms_json(campaign: rules.Campaign) -> dict[str, Any]:
    """A campaign as API.md's terms with its id (`GET /tradein/campaigns`, the PUT's answer)."""
    return {
        "campaign_id": campaign.campaign_id,
        "name": campaign.name,
        "starts_at": clock.iso(campaign.starts_at),
        "ends_at": clock.iso(campaign.ends_at),
        "channels": list(campaign.channels),
        "min_line_price_cents": campaign.min_line_price_cents,
        "excluded_brands": list(campaign.excluded_brands),
        "reward_cents": campaign.reward_cents,
        "registration_window_days": {"first": campaign.window_first_day, "last": campaign.window_last_day},
        "device_deadline_day": campaign.device_last_day,
        "device_criteria": {
            "text": campaign.device_criteria,
            "min_screen_inches": campaign.min_screen_inches,
            "max_age_years": campaign.max_device_age_years,
        },
    }


# --- persistence: the campaign item with its version -------------------------------------------


class _Taken(Exception):
    """The campaign item changed (or appeared) since it was read."""


class _HasClaims(Exception):
    """The campaign's claim counter is above zero."""


def _read(campaign_id: str) -> tuple[rules.Campaign, int] | None:
    try:
        item = CampaignModel.get(CAMPAIGN_SCOPE, campaign_id, consistent_read=True)
    except DoesNotExist:
        return None
    return store.campaign_from_item(item), int(item.version or 1)


def _write(campaign: rules.Campaign, read_version: int | None, guard_claims: bool) -> None:
    """Create (read_version None) or replace the campaign on the version read, with (guard_claims)
    a condition that no claim exists, in one transaction."""
    item = store.campaign_item(campaign)
    item.version = 1 if read_version is None else read_version + 1
    condition = (
        CampaignModel.campaign_id.does_not_exist() if read_version is None else CampaignModel.version == read_version
    )
    try:
        with transaction() as tx:
            tx.save(item, condition=condition)
            if guard_claims:
                tx.condition_check(
                    ClaimKeyModel,
                    counts.counter_key(campaign.campaign_id, counts.ALL),
                    condition=ClaimKeyModel.counter.does_not_exist() | (ClaimKeyModel.counter == 0),
                )
    except TransactionCancelled as exc:
        codes = list(exc.args[0])
        # DynamoDB answers in request order, and PynamoDB sends condition checks before puts.
        check, put = (codes[0], codes[1]) if guard_claims and len(codes) == 2 else (None, codes[0] if codes else None)
        if put == "ConditionalCheckFailed" or "TransactionConflict" in codes:
            raise _Taken() from None
        if check == "ConditionalCheckFailed":
            raise _HasClaims() from None
        raise


# --- service --------------------------------------------------------------------------------------


def check_campaign_id(campaign_id: str) -> str:
    if not CAMPAIGN_ID.fullmatch(campaign_id):
        raise BadRequest(
            "INVALID_CAMPAIGN_ID", "campaign_id is 2-64 lower-case letters, digits or hyphens, starting with either"
        )
    return campaign_id


def put_campaign(campaign_id: str, terms: Mapping[str, Any], now: datetime) -> tuple[dict[str, Any], bool]:
    """G5: create or change a campaign's terms; every term left out takes the seed's value.

    Returns (terms, created). An identical replay answers the same, never a 409. A change of a
    term that claims rely on while claims exist is 409 `CAMPAIGN_HAS_CLAIMS`; ending early is
    always allowed.
    """
    wanted = build(check_campaign_id(campaign_id), terms)
    refusal = check_terms(wanted)
    if refusal is not None:
        raise Unprocessable(refusal.code, refusal.message, refusal.details)
    for _ in range(5):
        found = _read(campaign_id)
        if found is not None and found[0] == wanted:
            return terms_json(wanted), False
        relied = relied_changes(found[0], wanted, now) if found else []
        try:
            _write(wanted, found[1] if found else None, guard_claims=bool(relied))
        except _Taken:
            continue  # another PUT won: judge this one against what it wrote
        except _HasClaims:
            raise Conflict(
                "CAMPAIGN_HAS_CLAIMS",
                "Claims rely on the terms this change would alter",
                {"terms": relied, "claims": counts.total(campaign_id)},
            ) from None
        logger.info("campaign written", extra={"campaign_id": campaign_id, "new": found is None})
        return terms_json(wanted), found is None
    raise Conflict("CAMPAIGN_CHANGED", "The campaign kept changing meanwhile; try again")


def list_for_backoffice(
    limit: int, cursor: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Every campaign with its claim counts by status, from the counters (no claim is read)."""
    start = views.start_key(cursor, {"scope": CAMPAIGN_SCOPE, "campaign_id": None})
    found, last = pager.page(partial(CampaignModel.query, CAMPAIGN_SCOPE), limit, start, ("scope", "campaign_id"))
    page = [store.campaign_from_item(item) for item in found]
    by_campaign = counts.counts([c.campaign_id for c in page])
    items = [{**terms_json(c), "claims": by_campaign[c.campaign_id]} for c in page]
    return items, last


def list_campaigns(today: date) -> list[dict[str, Any]]:
    """Campaigns whose registration is still open or that still have claims in progress."""
    return [
        terms_json(c)
        for c in store.list_campaigns()
        if rules.campaign_listed(c, today, has_open_claims=store.has_open_claims(c.campaign_id))
    ]


def seed_campaigns(today: date) -> list[str]:
    """`make run`: the campaign of seed 001 and a demo campaign with the same terms whose period
    runs from 60 to 20 days before `today` (API.md "Local stack"), through `put_campaign`.
    Safe to run twice (a replay). Returns their ids."""
    starts, ends = period(today - timedelta(days=60), today - timedelta(days=20))
    demo = {"name": f"{SEED_NAME} (demo)", "starts_at": starts, "ends_at": ends}
    now = clock.now()
    ids = [SEED_CAMPAIGN_ID, f"demo-{today:%Y%m%d}"]
    put_campaign(ids[0], {}, now)
    put_campaign(ids[1], demo, now)
    return ids
