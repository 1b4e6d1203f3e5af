"""Points liability (issue 16; IFRS 15: unredeemed points are deferred revenue), maintained
incrementally: the reconciliation reads every member the ledger touched, so it also moves the
member's contribution to its shard's running totals by the change since the last night (never a
scan). The same is done for coupons (`coupon_liability:<n>`: the coupons whose status changed,
index `changed-index`) and claims (`reconcile_claims:<n>`: the claims written, index
`touched_index`). Each unit ends by writing its part's snapshot of the night; the unit that finds
every part's snapshot of the date writes the CSV (`reports/liability/<date>.csv`).

Parts: `<n>` (members of shard n), `coupons#<n>`, `claims#<n>`; each keeps its own totals, so
their numbers (points, `coupons`/`coupon_cents`, `claims`/`claim_cents`) never collide.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.config import settings
from chalicelib.db import client
from chalicelib.errors import BadRequest, NotFound
from chalicelib.reconciliation.models import LiabilityModel

NUMBERS = ("pending", "available", "debt")
REPORT_PREFIX = "reports/liability/"
# Claims the retailer owes money for: approved (or revised) and not yet paid.
UNPAID_CLAIM_STATUSES = frozenset({"approved", "revised", "payout_scheduled"})


# --- rules ----------------------------------------------------------------------------------


def contribution(pending: int, available: int, debt: int, expiring: Mapping[str, int]) -> dict[str, int]:
    """A member's share of the liability: its balances and its available points per expiry month."""
    shares: dict[str, int] = {"pending": pending, "available": available, "debt": debt}
    for day, points in expiring.items():
        if points:
            month = f"exp_{day[:4]}_{day[5:7]}"
            shares[month] = shares.get(month, 0) + int(points)
    return shares


def coupon_contribution(status: str, amount_cents: int) -> dict[str, int]:
    """An issued coupon not yet redeemed (nor expired) is owed at its face value."""
    return {"coupons": 1, "coupon_cents": amount_cents} if status == "active" else {}


def claim_contribution(status: str, reward_cents: int | None) -> dict[str, int]:
    """An approved claim not yet paid is owed its reward."""
    return {"claims": 1, "claim_cents": int(reward_cents or 0)} if status in UNPAID_CLAIM_STATUSES else {}


def parts() -> set[str]:
    """The snapshot parts a complete night has: members, coupons and claims of every shard."""
    conf = settings()
    members = {str(s) for s in range(conf.reconciliation_shards)}
    coupons = {f"coupons#{s}" for s in range(conf.coupon_expiry_shards)}
    claims = {f"claims#{s}" for s in range(conf.reconciliation_shards)}
    return members | coupons | claims


def delta(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    changed = {k: after.get(k, 0) - before.get(k, 0) for k in set(before) | set(after)}
    return {k: v for k, v in sorted(changed.items()) if v}


def cents_per_point() -> float:
    """The coupon rate: what a point is worth when converted (the first coupon tier)."""
    tier = settings().coupon_tiers[0]
    return tier.amount_cents / tier.points


def report(day: date, totals: Mapping[str, int], complete: bool) -> dict[str, Any]:
    outstanding = int(totals.get("pending", 0)) + int(totals.get("available", 0))
    rate = cents_per_point()
    months = {f"{k[4:8]}-{k[9:11]}": int(v) for k, v in sorted(totals.items()) if k.startswith("exp_") and int(v) != 0}
    coupon_cents, claim_cents = int(totals.get("coupon_cents", 0)), int(totals.get("claim_cents", 0))
    return {
        "date": day.isoformat(),
        "complete": complete,
        "points": {
            "pending": int(totals.get("pending", 0)),
            "available": int(totals.get("available", 0)),
            "debt": int(totals.get("debt", 0)),
            "outstanding": outstanding,
            "available_by_expiry_month": months,
        },
        "cents_per_point": rate,
        "value_cents": round(outstanding * rate),
        "coupons": {"issued_unredeemed": int(totals.get("coupons", 0)), "value_cents": coupon_cents},
        "claims": {"approved_unpaid": int(totals.get("claims", 0)), "value_cents": claim_cents},
        "total_value_cents": round(outstanding * rate) + coupon_cents + claim_cents,
    }


def to_csv(shown: Mapping[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["date", "measure", "expiry_month", "points", "value_cents", "count"])
    rate, points, day = shown["cents_per_point"], shown["points"], shown["date"]
    for measure in ("pending", "available", "debt", "outstanding"):
        writer.writerow([day, measure, "", points[measure], round(points[measure] * rate), ""])
    for month, n in points["available_by_expiry_month"].items():
        writer.writerow([day, "available_expiring", month, n, round(n * rate), ""])
    coupons, claims = shown["coupons"], shown["claims"]
    writer.writerow([day, "coupons_issued_unredeemed", "", "", coupons["value_cents"], coupons["issued_unredeemed"]])
    writer.writerow([day, "claims_approved_unpaid", "", "", claims["value_cents"], claims["approved_unpaid"]])
    writer.writerow([day, "total", "", "", shown["total_value_cents"], ""])
    return out.getvalue()


# --- persistence ----------------------------------------------------------------------------


def _table() -> str:
    return str(LiabilityModel.Meta.table_name)


def _numbers(item: Mapping[str, Any]) -> dict[str, int]:
    return {k: int(v["N"]) for k, v in item.items() if "N" in v}


def apply(subject: str, part: str, current: dict[str, int]) -> bool:
    """Move the part's totals by the subject's change since last seen (`member#<id>`,
    `coupon#<code>`, `claim#<number>`), with `seen`, atomically. False when nothing changed (or
    another run moved it first: its totals are already in)."""
    dynamodb = client("dynamodb")
    key = {"pk": {"S": subject}, "sk": {"S": "seen"}}
    found = dynamodb.get_item(TableName=_table(), Key=key, ConsistentRead=True).get("Item")
    before = json.loads(found["seen"]["S"]) if found else {}
    change = delta(before, current)
    if not change:
        return False
    names = {f"#a{i}": name for i, name in enumerate(change)}
    values = {f":v{i}": {"N": str(n)} for i, n in enumerate(change.values())}
    seen_put: dict[str, Any] = {
        "TableName": _table(),
        "Item": {**key, "seen": {"S": json.dumps(current, sort_keys=True)}},
    }
    if found:
        seen_put["ConditionExpression"] = "seen = :old"
        seen_put["ExpressionAttributeValues"] = {":old": found["seen"]}
    else:
        seen_put["ConditionExpression"] = "attribute_not_exists(pk)"
    total = {
        "TableName": _table(),
        "Key": {"pk": {"S": f"total#{part}"}, "sk": {"S": "total"}},
        "UpdateExpression": "ADD " + ", ".join(f"#a{i} :v{i}" for i in range(len(change))),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
    try:
        dynamodb.transact_write_items(TransactItems=[{"Put": seen_put}, {"Update": total}])
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "TransactionCanceledException":
            return False
        raise
    return True


def snapshot(part: str, day: date) -> None:
    """The part's totals as this night's unit leaves them; the CSV once every part has one."""
    dynamodb = client("dynamodb")
    total_key = {"pk": {"S": f"total#{part}"}, "sk": {"S": "total"}}
    totals = _numbers(dynamodb.get_item(TableName=_table(), Key=total_key, ConsistentRead=True).get("Item", {}))
    item = {"pk": {"S": f"snapshot#{day.isoformat()}"}, "sk": {"S": f"shard#{part}"}}
    item.update({k: {"N": str(v)} for k, v in totals.items()})
    dynamodb.put_item(TableName=_table(), Item=item)
    summed, _, complete = _snapshots(day)
    if complete:
        body = to_csv(report(day, summed, complete=True))
        client("s3").put_object(
            Bucket=settings().proofs_bucket,
            Key=f"{REPORT_PREFIX}{day.isoformat()}.csv",
            Body=body.encode(),
            ContentType="text/csv",
        )


def _snapshots(day: date) -> tuple[dict[str, int], int, bool]:
    """The sum of the date's part snapshots, how many there are, whether every part has one."""
    answer = client("dynamodb").query(
        TableName=_table(),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"snapshot#{day.isoformat()}"}},
        ConsistentRead=True,
    )
    summed: dict[str, int] = {}
    shards = set()
    for item in answer.get("Items", []):
        shards.add(item["sk"]["S"])
        for k, v in _numbers(item).items():
            summed[k] = summed.get(k, 0) + v
    return summed, len(shards), {f"shard#{p}" for p in parts()} <= shards


def liability_report(day: str | None) -> dict[str, Any]:
    """GET /backoffice/reports/liability?date=: the night's snapshot, valued, with its CSV."""
    if not day:
        raise BadRequest("INVALID_REQUEST", "date is required (YYYY-MM-DD)", {"errors": [{"field": "query.date"}]})
    try:
        as_of = date.fromisoformat(day)
    except ValueError:
        raise BadRequest("INVALID_REQUEST", "date must be YYYY-MM-DD", {"errors": [{"field": "query.date"}]}) from None
    summed, shards, complete = _snapshots(as_of)
    if not shards:
        raise NotFound(
            "REPORT_NOT_FOUND",
            f"No liability snapshot for {as_of.isoformat()}: run nightly_loyalty and nightly_tradein",
        )
    shown = report(as_of, summed, complete)
    if complete:
        shown["csv_url"] = client("s3").generate_presigned_url(
            "get_object",
            Params={"Bucket": settings().proofs_bucket, "Key": f"{REPORT_PREFIX}{as_of.isoformat()}.csv"},
            ExpiresIn=settings().tradein_file_link_seconds,
        )
    return shown
