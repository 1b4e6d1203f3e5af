"""The claim handler's view of claims (T13, T15): one claim with its whole timeline and a link to
its proof, the list by status, and the search by claim number, receipt id or e-mail address.

The search reads by key only: the claim number is the table's key, receipt ids and e-mail
addresses are lower-cased lookup attributes with their own GSI (`receipt_index`,
`email_index`); never a scan.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import clock, pager
from chalicelib.config import settings
from chalicelib.db import client
from chalicelib.errors import BadRequest, NotFound
from chalicelib.tradein import rules, store
from chalicelib.tradein.models import ClaimModel
from chalicelib.tradein.views import backoffice_json
from chalicelib.tradein.views import start_key as _start_key

PROOF_LINK_SECONDS = 300  # API.md: the proof's presigned GET is valid 5 minutes


# --- one claim -------------------------------------------------------------------------------------


def timeline_json(entry: rules.TimelineEntry) -> dict[str, Any]:
    """`{at, status | event, reason?}`: a status change, or an event (a refused proof with its
    reason, a flag, an e-mail sent with its kind)."""
    found: dict[str, Any] = {"at": clock.iso(entry.at)}
    if entry.event == "status":
        found["status"] = entry.status
    else:
        found["event"] = entry.event
    if entry.detail:
        found["kind" if entry.event == "email" else "reason"] = entry.detail
    return found


def proof_json(claim: rules.Claim) -> dict[str, Any] | None:
    """The attached proof with a presigned GET valid 5 minutes; None while there is none."""
    if not claim.proof_key:
        return None
    s3 = client("s3")
    bucket = settings().proofs_bucket
    try:
        size: int | None = int(s3.head_object(Bucket=bucket, Key=claim.proof_key)["ContentLength"])
    except ClientError:
        size = None  # the file is gone (a bucket lifecycle rule): the rest of the facts stay
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": claim.proof_key}, ExpiresIn=PROOF_LINK_SECONDS
    )
    return {"url": url, "content_type": claim.proof_content_type, "size_bytes": size, "sha256": claim.proof_sha256}


def _all_deadlines(claim: rules.Claim) -> dict[str, str]:
    dates = {
        "proof_by": claim.registration_by,
        "device_by": claim.device_by,
        "complete_by": claim.complete_by,
        "return_request_by": claim.return_request_by,
        "payment_on": claim.execution_date,
    }
    return {name: day.isoformat() for name, day in dates.items() if day is not None}


def claim_view(claim_number: str) -> dict[str, Any]:
    """One claim for its handler: status, the whole timeline (refused proofs included), flags,
    every deadline, masked personal data (T15), the old laptop as declared (T5) and the proof."""
    claim = store.get_claim(claim_number.strip().upper())
    if claim is None:
        raise NotFound("CLAIM_NOT_FOUND", "No claim with this number")
    device = asdict(claim.old_device)
    device["purchased_on"] = claim.old_device.purchased_on.isoformat()
    return {
        **backoffice_json(claim),
        "timeline": [timeline_json(e) for e in claim.timeline],
        "deadlines": _all_deadlines(claim),
        "old_device": device,
        "proof": proof_json(claim),
    }


# --- lists and search ----------------------------------------------------------------------------


def list_claims(
    status: str | None, limit: int, cursor: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Claims by status (all statuses in order when none is given), one page at a time."""
    statuses = [status] if status else list(rules.STATUSES)
    start = None
    if cursor is not None:
        if cursor.get("status") not in statuses:
            raise BadRequest("INVALID_CURSOR", "cursor is not one this API handed out")
        statuses = statuses[statuses.index(cursor["status"]) :]
        start = _start_key(cursor.get("key"), {"claim_number": None, "registered_at": None, "status": statuses[0]})
    found: list[dict[str, Any]] = []
    for current in statuses:
        page, last = store.list_claims(current, limit - len(found), start)
        found.extend(backoffice_json(c) for c in page)
        start = None
        if last:
            return found, {"status": current, "key": last}
        if len(found) >= limit:
            following = statuses[statuses.index(current) + 1 :]
            return found, ({"status": following[0], "key": None} if following else None)
    return found, None


_INDEXES = {"receipt": ("receipt_lookup", ClaimModel.receipt_index), "email": ("email_lookup", ClaimModel.email_index)}


def _sources(q: str) -> list[tuple[str, str]]:
    """Where a search text can be found: an e-mail address, or else a claim number or receipt id."""
    if "@" in q:
        return [("email", q.lower())]
    return [("number", q.upper()), ("receipt", q.lower())]


def _index_page(
    source: str, value: str, limit: int, start: dict[str, Any] | None
) -> tuple[Iterator[str], dict[str, Any] | None]:
    attribute, index = _INDEXES[source]
    found, last = pager.page(partial(index.query, value), limit, start, ("claim_number", "registered_at", attribute))
    return iter(item.claim_number for item in found), last


def search_claims(
    q: str, status: str | None, limit: int, cursor: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Claims whose number, receipt id or participant e-mail is `q` (exact, case-insensitive),
    optionally in one status; one page at a time, each claim read from its base item. The cursor
    holds no search text (no e-mail address in a URL twice): the index key it carries must match."""
    text = q.strip()
    sources = _sources(text)
    names = [name for name, _ in sources]
    start = None
    if cursor is not None:
        if cursor.get("source") not in names:
            raise BadRequest("INVALID_CURSOR", "cursor is not one this API handed out")
        sources = sources[names.index(cursor["source"]) :]
        if sources[0][0] != "number":
            attribute = _INDEXES[sources[0][0]][0]
            start = _start_key(
                cursor.get("key"),
                {"claim_number": None, "registered_at": None, attribute: sources[0][1]},
            )
    found: list[dict[str, Any]] = []
    seen: set[str] = set()

    def take(claim: rules.Claim | None) -> None:
        if claim is not None and claim.claim_number not in seen and status in (None, claim.status):
            seen.add(claim.claim_number)
            found.append(backoffice_json(claim))

    for position, (source, value) in enumerate(sources):
        following = sources[position + 1 :]
        if source == "number":
            take(store.get_claim(value))
        else:
            numbers, last = _index_page(source, value, limit - len(found), start)
            for number in numbers:
                take(store.get_claim(number))
            start = None
            if last:
                return found, {"source": source, "key": last}
        if len(found) >= limit and following:
            return found, {"source": following[0][0], "key": None}
    return found, None
