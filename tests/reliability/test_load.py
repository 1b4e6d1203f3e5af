"""A bounded load run: locust headless (tests/reliability/locustfile.py: member, pos and back-office
traffic) against the local stack (scripts/local_stack.py: moto's server, `chalice local`, the S3
and work bridges), then the invariants on what the run touched: for every member, the balances the
profile shows equal the sums of their lots by status (read from moto's DynamoDB), none negative;
no coupon both used and active, `used` iff redeemed, `active` iff on the expiry index; 0 server
errors. Times are moto's and `chalice local`'s on a shared 2-core machine, not DynamoDB's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore.config import Config

from tests.browser.stack import ROOT, Stack, start_stack

SECONDS = int(os.environ.get("LOAD_SECONDS", "40"))
USERS = int(os.environ.get("LOAD_USERS", "6"))
KINDS = ("member", "pos", "backoffice", "upload")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1) if ordered else 0.0


def dynamodb(stack: Stack) -> Any:
    return boto3.client(
        "dynamodb", endpoint_url=stack.moto_url, region_name="eu-west-1", aws_access_key_id="local",
        aws_secret_access_key="local", config=Config(retries={"max_attempts": 2}),
    )  # fmt: skip


def scan(client: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=table):
        items.extend(page["Items"])
    return items


def ledger_mismatches(stack: Stack, members: list[str]) -> list[str]:
    from chalicelib.auth import mint_dev_token

    lots: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for lot in scan(dynamodb(stack), "loyalty-dev-loyalty-lots"):
        lots[lot["member_id"]["S"]][lot["status"]["S"]] += int(lot["remaining"]["N"])
    problems = []
    for member_id in members:
        token = mint_dev_token(member_id, None, secret=stack.dev_secret())
        me = requests.get(f"{stack.api_url}/members/me", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        points = me.json()["points"]
        counted = {"pending": lots[member_id]["pending"], "available": lots[member_id]["available"]}
        if {k: points[k] for k in counted} != counted or points["available"] < 0:
            problems.append(f"{member_id}: profile {points}, lots {counted}")
    return problems


def coupon_mismatches(stack: Stack) -> tuple[dict[str, int], list[str]]:
    coupons = scan(dynamodb(stack), "loyalty-dev-coupons")
    problems = []
    for item in coupons:
        status = item["status"]["S"]
        redeemed = "redeemed_receipt_id" in item and "NULL" not in item["redeemed_receipt_id"]
        indexed = "expiry_shard" in item and "NULL" not in item["expiry_shard"]
        if (status == "used") != redeemed or (status == "active") != indexed:
            problems.append(f"{item['code']['S']}: {status}, redeemed={redeemed}, on the expiry index={indexed}")
    return dict(Counter(item["status"]["S"] for item in coupons)), problems


def test_load_of_the_three_client_kinds_on_the_local_stack(tmp_path: Path, figure: Any) -> None:
    stack = start_stack()
    results = tmp_path / "load.json"
    try:
        env = {**os.environ, "LOAD_RESULTS": str(results), "AUTH_DEV_SECRET": stack.dev_secret(),
               "PYTHONPATH": str(ROOT)}  # fmt: skip
        run = subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(Path(__file__).with_name("locustfile.py")), "--headless",
             "--host", stack.api_url, "-u", str(USERS), "-r", str(USERS), "-t", f"{SECONDS}s", "--stop-timeout", "10",
             "--only-summary", "--loglevel", "WARNING"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=SECONDS + 120,
        )  # fmt: skip
        assert results.exists(), run.stdout[-4000:] + run.stderr[-4000:]
        recorded = json.loads(results.read_text())
        ledger = ledger_mismatches(stack, recorded["members"])
        coupons, coupon_problems = coupon_mismatches(stack)
    finally:
        stack.stop()
    server_errors = [line for line in stack.lines if "Traceback" in line]
    by_kind: dict[str, list[tuple[int, float]]] = defaultdict(list)
    failures = 0
    for kind, status, millis, failed in recorded["requests"]:
        by_kind[kind].append((status, millis))
        failures += failed
    statuses = [status for kind in by_kind.values() for status, _ in kind]
    figure(
        "load",
        seconds=SECONDS,
        users=USERS,
        requests=len(statuses),
        failures=failures,
        server_errors=sum(s >= 500 for s in statuses),
        transport_errors=sum(s == 0 for s in statuses),
        members=len(recorded["members"]),
        coupons=coupons,
        claims_processed=len(recorded["claims_processed"]),
        invariant_failures=len(ledger) + len(coupon_problems),
        **{
            kind: f"{len(by_kind[kind])} req, p50 {percentile([m for _, m in by_kind[kind]], 0.5)} ms, "
            f"p99 {percentile([m for _, m in by_kind[kind]], 0.99)} ms"
            for kind in KINDS
        },
    )
    # the server's own account of a 5xx first: it says more than the client's summary
    assert not server_errors, "\n".join(
        "".join(stack.lines[i + 28 : i + 60]) for i, line in enumerate(stack.lines) if "Traceback" in line
    )
    assert run.returncode == 0 and failures == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert all(by_kind[kind] for kind in ("member", "pos", "backoffice")), {k: len(v) for k, v in by_kind.items()}
    assert not [s for s in statuses if s >= 500 or s == 0]
    assert not ledger and not coupon_problems, ledger + coupon_problems
