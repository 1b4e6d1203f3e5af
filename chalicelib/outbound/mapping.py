"""Stream record -> domain events: pure, no AWS (docs/events.md, docs/events/*.schema.json).

The tables already record every change these events announce: a ledger entry per balance change
(loyalty-history, insert-only, its entry_id deterministic from its cause), the coupon's own item
(its status and the fields each transition sets) and the claim's timeline (append-only). So the
events are read off the stream of those tables, never written by the write paths, and an event's
id is derived from what changed, not from the stream record: a redelivered or replayed record, or
the same change seen twice, gives the same id (the consumers' idempotency key).

Only ids leave: member ids, coupon codes, claim numbers, campaign and receipt ids. Names, e-mail
addresses, postal addresses, IBANs and IPs stay in their tables (CRM joins on the member id).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

SCHEMA_VERSION = 1
LEDGER_TABLE = "loyalty-history"
COUPONS_TABLE = "coupons"
CLAIMS_TABLE = "tradein-claims"
PUBLISHED_TABLES = (LEDGER_TABLE, COUPONS_TABLE, CLAIMS_TABLE)

LEDGER_TYPES = ("earned", "matured", "spent", "expired", "reversed", "adjusted")
EVENT_TYPES: tuple[str, ...] = (
    *(f"loyalty.points.{kind}" for kind in LEDGER_TYPES),
    "coupon.issued",
    "coupon.redeemed",
    "coupon.restored",
    "coupon.expired",
    "coupon.transferred",
    "claim.status_changed",
)


@dataclass(frozen=True)
class DomainEvent:
    id: str  # idempotency key: the same change always gets the same id
    type: str
    occurred_at: str  # ISO 8601 as the table recorded it
    subject: dict[str, str]
    data: dict[str, Any]

    def detail(self) -> dict[str, Any]:
        """The EventBridge `detail`: the event as its JSON Schema describes it."""
        return {
            "id": self.id,
            "type": self.type,
            "schema_version": SCHEMA_VERSION,
            "occurred_at": self.occurred_at,
            "subject": dict(self.subject),
            "data": dict(self.data),
        }


def table_of(event_source_arn: str, prefix: str) -> str | None:
    """`arn:...:table/<prefix><name>/stream/<label>` -> `<name>`; None for another stage's table."""
    try:
        full_name = event_source_arn.split(":table/", 1)[1].split("/", 1)[0]
    except IndexError:
        return None
    return full_name[len(prefix) :] if full_name.startswith(prefix) else None


def events_of(record: dict[str, Any], prefix: str) -> list[DomainEvent]:
    """The domain events one stream record announces (often none: most writes change nothing
    a consumer cares about, e.g. an index key or an e-mail's outbox)."""
    table = table_of(str(record.get("eventSourceARN", "")), prefix)
    change = record.get("dynamodb", {})
    new = _item(change.get("NewImage"))
    old = _item(change.get("OldImage"))
    name = record.get("eventName")
    if name == "REMOVE" or new is None:
        return []
    if table == LEDGER_TABLE:
        return _ledger(new) if name == "INSERT" else []
    if table == COUPONS_TABLE:
        return _coupon(old, new, _approximate_time(change))
    if table == CLAIMS_TABLE:
        return _claim(old, new)
    return []


def event_id(*parts: object) -> str:
    """A deterministic id: the same change, the same id (32 hex digits of SHA-256)."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]


def _ledger(entry: dict[str, Any]) -> list[DomainEvent]:
    kind = entry.get("type")
    # A merge (L13) copies the source's entries to the target as `<entry_id>@<source>`: history
    # already announced under the source's id, not new points. (The merge itself has no event yet.)
    if kind not in LEDGER_TYPES or "@" in entry["entry_id"]:
        return []
    return [
        DomainEvent(
            id=event_id(LEDGER_TABLE, entry["member_id"], entry["entry_id"]),
            type=f"loyalty.points.{kind}",
            occurred_at=entry["at"],
            subject={"member_id": entry["member_id"]},
            data={"entry_id": entry["entry_id"], "points": int(entry["points"]), "cause": entry["cause"]},
        )
    ]


def _coupon(old: dict[str, Any] | None, new: dict[str, Any], changed_at: str) -> list[DomainEvent]:
    code, member = new["code"], new["member_id"]
    subject = {"member_id": member, "coupon_code": code}
    found: list[DomainEvent] = []
    before = old.get("status") if old else None
    after = new.get("status")
    if old is None:
        found.append(_coupon_event("issued", new["issued_at"], subject, new, (new["issued_at"],)))
    elif before == "active" and after == "used":
        receipt, at = new.get("redeemed_receipt_id"), new.get("redeemed_at")
        found.append(_coupon_event("redeemed", at, subject, new, (receipt, at), receipt_id=receipt))
    elif before == "used" and after == "active" and new.get("restored_at"):
        receipt, at = old.get("redeemed_receipt_id"), new["restored_at"]
        found.append(_coupon_event("restored", at, subject, new, (receipt, at), receipt_id=receipt))
    elif before == "active" and after == "expired":
        on = new.get("expired_on")
        found.append(_coupon_event("expired", on, subject, new, (on,)))
    if old is not None and old.get("member_id") != member:
        source = old.get("member_id")
        found.append(
            # The item keeps no transfer time: the stream's time of the change stands in.
            _coupon_event("transferred", changed_at, subject, new, (source, member), from_member_id=source)
        )
    return found


def _coupon_event(
    transition: str, at: Any, subject: dict[str, str], coupon: dict[str, Any], change: tuple[Any, ...], **extra: Any
) -> DomainEvent:
    data = {
        "amount_cents": int(coupon["amount_cents"]),
        "points": int(coupon["points"]),
        "expires_on": coupon["expires_on"],
        **{k: v for k, v in extra.items() if v is not None},
    }
    return DomainEvent(
        id=event_id(COUPONS_TABLE, subject["coupon_code"], transition, *change),
        type=f"coupon.{transition}",
        occurred_at=str(at),
        subject=dict(subject),
        data=data,
    )


def _claim(old: dict[str, Any] | None, new: dict[str, Any]) -> list[DomainEvent]:
    """One event per timeline entry that moved the status, from the entries this write appended."""
    timeline = new.get("timeline") or []
    seen = len(old.get("timeline") or []) if old else 0
    found: list[DomainEvent] = []
    for index in range(seen, len(timeline)):
        entry = timeline[index]
        previous = timeline[index - 1]["status"] if index else None
        if entry["status"] == previous:
            continue
        found.append(
            DomainEvent(
                id=event_id(CLAIMS_TABLE, new["claim_number"], index, entry["status"]),
                type="claim.status_changed",
                occurred_at=entry["at"],
                subject={"claim_number": new["claim_number"], "campaign_id": new["campaign_id"]},
                data={
                    "from_status": previous,
                    "to_status": entry["status"],
                    "event": entry["event"],
                    "receipt_id": new["receipt_id"],
                },
            )
        )
    return found


def _approximate_time(change: dict[str, Any]) -> str:
    seconds = float(change.get("ApproximateCreationDateTime", 0))
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat(timespec="seconds")


def _item(image: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if image is None else {name: _value(value) for name, value in image.items()}


def _value(typed: dict[str, Any]) -> Any:
    """DynamoDB JSON -> plain values (numbers as int or float; sets as sorted lists)."""
    ((kind, value),) = typed.items()
    if kind in ("S", "B"):
        return value
    if kind == "N":
        return _number(value)
    if kind == "BOOL":
        return bool(value)
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: _value(v) for k, v in value.items()}
    if kind == "L":
        return [_value(v) for v in value]
    if kind == "NS":
        return sorted(_number(v) for v in value)
    return sorted(value)  # SS, BS


def _number(text: str) -> int | float:
    return float(text) if any(c in text for c in ".eE") else int(text)
