"""`make bench` (issue 12): requests per hot-path operation, the nightly jobs against 1x and 20x
not-due data, a projection of a 1,000,000-lot night, bench/results.json and bench/bench.png.

Everything runs in process on moto (no network, no AWS account). Requests are counted with a
botocore `before-call` hook (scripts/request_count.py); times are moto's and only their ratios
mean anything. The projection uses DynamoDB's latencies (ASSUMED below), not moto's.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_stage = json.loads((ROOT / ".chalice" / "config.json").read_text())
os.environ.update(_stage.get("environment_variables", {}))
os.environ.update(_stage["stages"]["test"]["environment_variables"])
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # the table, not thousands of log lines

import time_machine  # noqa: E402
from chalice.test import Client  # noqa: E402
from moto import mock_aws  # noqa: E402

from app import app  # noqa: E402
from chalicelib import nightly  # noqa: E402
from chalicelib.auth import mint_dev_token  # noqa: E402
from chalicelib.clock import AMSTERDAM  # noqa: E402
from chalicelib.config import settings  # noqa: E402
from chalicelib.loyalty import accounts, earning, lot_store, member_store  # noqa: E402
from chalicelib.loyalty import rules as loyalty_rules  # noqa: E402
from chalicelib.loyalty.models import LotModel, MemberModel  # noqa: E402
from chalicelib.provision import provision  # noqa: E402
from chalicelib.sales import Receipt  # noqa: E402
from scripts.request_count import Requests, count_requests  # noqa: E402
from tests.factories import make_line, old_lots  # noqa: E402

OUT = ROOT / "bench"

# DynamoDB latencies ASSUMED for the projection (in-region, from a Lambda; AWS quotes "single-digit
# milliseconds"): GetItem 2-5 ms, a Query page 2-5 ms, TransactWriteItems 5-10 ms (two-phase).
# Mid-range and pessimistic figures are both projected.
LATENCY_MS = {
    "mid": {"GetItem": 3.5, "Query": 3.5, "BatchGetItem": 4.0, "TransactWriteItems": 7.5, "UpdateItem": 5.0},
    "high": {"GetItem": 5.0, "Query": 5.0, "BatchGetItem": 6.0, "TransactWriteItems": 10.0, "UpdateItem": 8.0},
}
NIGHT_LOTS = 1_000_000
LEDGER = ("mature", "expire")  # the units of the loyalty night measured: maturation, expiry
NIGHT_TARGET_S = 600
LAMBDA_TIMEOUT_S = 900
# A transactional write costs 2 WCU per item (up to 1 KB): maturing one lot writes the lot, the
# member and a history entry.
WCU_PER_TRANSACTIONAL_ITEM = 2
ITEMS_PER_MATURATION = 3


def parallelism() -> int:
    """The workers a production night runs at once: the prod stage's NIGHTLY_PARALLELISM, capped
    by its MATURITY_SHARDS (each shard's maturation is one chain of units, run by one worker)."""
    stage = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["prod"]
    env = stage["environment_variables"]
    workers = int(env.get("NIGHTLY_PARALLELISM", settings().nightly_parallelism))
    return min(workers, int(env.get("MATURITY_SHARDS", settings().maturity_shards)))


# --- helpers -----------------------------------------------------------------------------------


@contextmanager
def fresh_aws() -> Iterator[None]:
    with mock_aws():
        provision()
        yield


@contextmanager
def at(when: str) -> Iterator[None]:
    traveller = time_machine.travel(datetime.fromisoformat(when).replace(tzinfo=AMSTERDAM), tick=True)
    traveller.start()
    try:
        yield
    finally:
        traveller.stop()


def headers(subject: str, *groups: str) -> dict[str, str]:
    token = mint_dev_token(subject, list(groups) or None, secret=os.environ["AUTH_DEV_SECRET"])
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def call(client: Client, method: str, path: str, hdrs: dict[str, str], body: Any = None) -> tuple[int, Any]:
    raw = b"" if body is None else json.dumps(body).encode()
    response = client.http.request(method, path, headers=hdrs, body=raw)
    return response.status_code, (json.loads(response.body) if response.body else None)


LAPTOP = {
    "line_id": "1",
    "sku": "LAP-1",
    "description": "Laptop",
    "brand": "Acme",
    "category": "laptop",
    "kind": "product",
    "seller": "retailer",
    "unit_price_cents": 250_000,
    "quantity": 1,
}
POS = ("pos-1", "pos")


def measured(client: Client, method: str, path: str, hdrs: dict[str, str], body: Any = None) -> tuple[Any, Requests]:
    with count_requests() as seen:
        status, answer = call(client, method, path, hdrs, body)
    assert status < 300, (method, path, status, answer)
    return answer, seen


# --- 1. hot paths -------------------------------------------------------------------------------


def hot_paths() -> dict[str, dict[str, Any]]:
    """Requests per operation for a member with 200 expired lots of history."""
    results: dict[str, dict[str, Any]] = {}
    with fresh_aws(), Client(app, stage_name="test") as client:
        with at("2016-10-01T12:00"):
            join: dict[str, Any] = {"email": "m-1@example.com", "first_name": "Ann", "last_name": "Smit"}
            join |= {"newsletter": False, "partner_data_sharing": False}
            assert call(client, "POST", "/members", headers("m-1"), join)[0] == 201
        with at("2017-08-10T12:00"):
            earn = {"channel": "store", "purchased_at": "2017-07-01T12:00:00+02:00", "member_id": "m-1"}
            assert call(client, "PUT", "/receipts/earn-1", headers(*POS), {**earn, "lines": [LAPTOP]})[0] == 201
            nightly.run("nightly_loyalty", date(2017, 8, 10), kinds=LEDGER)
            old_lots("m-1", 200)
            me = headers("m-1")

            def record(name: str, target: int, seen: Requests, note: str = "") -> None:
                results[name] = {"target": target, "measured": seen.total(), "by_operation": seen.of("dynamodb")}
                if note:
                    results[name]["note"] = note

            _, seen = measured(client, "GET", "/members/me", me)
            record("GET /members/me", 1, seen, "member with 200 expired lots")
            body: dict[str, Any] = {"channel": "store", "purchased_at": "2017-08-10T11:00:00+02:00", "member_id": "m-1"}
            body["lines"] = [LAPTOP]
            _, seen = measured(client, "PUT", "/receipts/R-1", headers(*POS), body)
            record("PUT /receipts (new)", 2, seen)
            _, seen = measured(client, "PUT", "/receipts/R-1", headers(*POS), body)
            record("PUT /receipts (replay)", 1, seen)
            _, seen = measured(
                client, "POST", "/members/me/coupons", {**me, "Idempotency-Key": "k1"}, {"amount_cents": 2000}
            )
            record("POST /members/me/coupons", 3, seen)
            code = _["code"]
            basket = {"member_id": "m-1", "channel": "store", "lines": [LAPTOP], "codes": [code]}
            _, seen = measured(client, "POST", "/coupons/validate", headers(*POS), basket)
            record("POST /coupons/validate", 1, seen)
            _, seen = measured(client, "POST", "/coupons/redeem", headers(*POS), {**basket, "receipt_id": "R-2"})
            record("POST /coupons/redeem", 2, seen)
            ret = {
                "return_id": "ret-1",
                "returned_at": "2017-08-10T13:00:00+02:00",
                "lines": [{"line_id": "1", "quantity": 1}],
            }
            _, seen = measured(client, "POST", "/receipts/R-1/returns", headers(*POS), ret)
            record("POST /receipts/{id}/returns", 4, seen, "return, receipt, redemption in one read")
    return results


# --- 2. the loyalty night -------------------------------------------------------------------------

NIGHT = date(2018, 3, 1)
MEMBERS = 20
DUE_LOTS = 100


def _buy(receipt_id: str, member_id: str, when: datetime, euros: int) -> int:
    line = make_line("1", euros * 100)
    receipt = Receipt(receipt_id=receipt_id, channel="store", purchased_at=when, lines=(line,), member_id=member_id)
    result, created = earning.record_receipt(receipt, None, {"receipt_id": receipt_id, "at": when.isoformat()})
    assert created
    return result.points


def loyalty_night(not_due_factor: int) -> dict[str, Any]:
    """DUE_LOTS lots due to mature on NIGHT, plus `not_due_factor` x DUE_LOTS pending lots that are
    not due yet; the night must touch only the due ones."""
    with fresh_aws():
        expected: dict[str, dict[str, int]] = {}
        with at("2017-12-01T10:00"):
            for m in range(MEMBERS):
                member_id = f"n-{m}"
                accounts.join(member_id, f"{member_id}@example.com", "Ann", "Smit", None, False, False)
                expected[member_id] = {"available": settings().welcome_points, "pending": 0}
        purchase_due = datetime(2018, 1, 30, 12, tzinfo=AMSTERDAM)  # matures 2018-03-01
        purchase_later = datetime(2018, 2, 25, 12, tzinfo=AMSTERDAM)  # matures 2018-03-27
        with at("2018-02-26T10:00"):
            for i in range(DUE_LOTS):
                member_id = f"n-{i % MEMBERS}"
                expected[member_id]["available"] += _buy(f"due-{i}", member_id, purchase_due, 10 + i % 7)
            _not_due_lots(DUE_LOTS * not_due_factor, purchase_later.date(), expected)
        with at(f"{NIGHT.isoformat()}T01:30"):
            started = time.perf_counter()
            with count_requests() as seen:
                counts = nightly.run("nightly_loyalty", NIGHT, kinds=LEDGER)
            seconds = time.perf_counter() - started
            wrong = []
            for member_id, want in expected.items():
                member = member_store.get_member(member_id)
                assert member is not None
                lots = lot_store.lots_of(member_id)
                got = {"available": member.balance.available, "pending": member.balance.pending}
                if got != want or member.balance != loyalty_rules.balance_of(lots, member.balance.debt):
                    wrong.append(member_id)
    return {
        "not_due_lots": DUE_LOTS * not_due_factor,
        "due_lots": DUE_LOTS,
        "lots_matured": counts["lots_matured"],
        "requests": seen.total(),
        "by_operation": seen.of("dynamodb"),
        "seconds": round(seconds, 3),
        "balances_correct": not wrong and counts["lots_matured"] == DUE_LOTS,
        "members_wrong": wrong,
    }


def _not_due_lots(n: int, purchased: date, expected: dict[str, dict[str, int]]) -> None:
    """`n` pending lots maturing after NIGHT, written in batches with the members' pending balance
    (the same items record_receipt writes, without its 2 requests per lot: moto is slow)."""
    pol = accounts.policy()
    added: dict[str, int] = {}
    with LotModel.batch_write() as batch:
        for i in range(n):
            member_id, points = f"n-{i % MEMBERS}", 20 + i % 5
            lot = loyalty_rules.Lot(
                member_id=member_id, lot_id=f"receipt#later-{i}", source="receipt", kind="base",
                points=points, remaining=points, earned_on=purchased,
                matures_on=loyalty_rules.matures_on(purchased, pol),
                expires_on=loyalty_rules.base_expires_on(purchased, pol), status="pending", receipt_id=f"later-{i}",
            )  # fmt: skip
            batch.save(lot_store.lot_item(lot))
            added[member_id] = added.get(member_id, 0) + points
    for member_id, points in added.items():
        MemberModel(member_id).update(actions=[MemberModel.pending.add(points)])
        expected[member_id]["pending"] += points


# --- 3. the trade-in night -------------------------------------------------------------------------


def tradein_night(open_claims: int) -> dict[str, Any]:
    """The trade-in nightly the day after `open_claims` claims were registered (nothing due yet)."""
    from chalicelib.tradein import campaigns as tradein_campaigns
    from tests.integration.tradein.helpers import other_address, receipt_body, registration

    with fresh_aws(), Client(app, stage_name="test") as client:
        with at("2017-09-12T10:00"):
            tradein_campaigns.seed_campaigns(date(2017, 9, 12))
            for n in range(open_claims):
                rid = f"T-{n}"
                assert call(client, "PUT", f"/receipts/{rid}", headers(*POS), receipt_body())[0] in (200, 201)
                body = registration(rid, participant={"address": other_address(n), "email": f"p{n}@example.nl"})
                status, answer = call(client, "POST", "/tradein/claims", {"Content-Type": "application/json"}, body)
                assert status == 201, answer
        with at("2017-09-13T01:45"), count_requests() as seen:
            nightly.run("nightly_tradein", date(2017, 9, 13), kinds=nightly.TRADEIN_STEPS)
    return {"open_claims": open_claims, "requests": seen.total(), "by_operation": seen.of("dynamodb")}


# --- 4. projection ---------------------------------------------------------------------------------


def projection(night: dict[str, Any], workers: int) -> dict[str, Any]:
    """A night of NIGHT_LOTS due lots from the requests per due lot measured above."""
    per_lot = {op: n / night["due_lots"] for op, n in night["by_operation"].items()}
    out: dict[str, Any] = {"lots": NIGHT_LOTS, "requests_per_lot": {k: round(v, 3) for k, v in per_lot.items()}}
    for name, latency in LATENCY_MS.items():
        ms_per_lot = sum(n * latency.get(op, 5.0) for op, n in per_lot.items())
        serial_s = NIGHT_LOTS * ms_per_lot / 1000
        by_p = {p: round(serial_s / p) for p in (1, 2, 4, 8, 16, 32, 64)}
        lots_per_s = workers / (ms_per_lot / 1000)
        out[name] = {
            "ms_per_lot": round(ms_per_lot, 2),
            "serial_seconds": round(serial_s),
            "seconds_by_parallelism": by_p,
            "seconds_at_parallelism": round(serial_s / workers),
            "wcu_per_second": round(lots_per_s * ITEMS_PER_MATURATION * WCU_PER_TRANSACTIONAL_ITEM),
        }
    return out


# --- report ----------------------------------------------------------------------------------------


def table(results: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name, r in results["hot_paths"].items():
        rows.append(
            {
                "figure": name,
                "target": f"<= {r['target']}",
                "measured": r["measured"],
                "ok": r["measured"] <= r["target"],
            }
        )
    one, twenty = results["nightly"]["1x"], results["nightly"]["20x"]
    req_ratio = twenty["requests"] / one["requests"]
    time_ratio = twenty["seconds"] / one["seconds"]
    rows.append(
        {
            "figure": "nightly requests, 20x vs 1x not-due",
            "target": "<= 1.1x",
            "measured": f"{req_ratio:.2f}x",
            "ok": req_ratio <= 1.1,
        }
    )
    rows.append(
        {
            "figure": "nightly time (moto), 20x vs 1x not-due",
            "target": "<= 1.1x",
            "measured": f"{time_ratio:.2f}x",
            "ok": time_ratio <= 1.1,
        }
    )
    rows.append(
        {
            "figure": "nightly balances after the night",
            "target": "= expected sums",
            "measured": "equal" if one["balances_correct"] and twenty["balances_correct"] else "DIFFER",
            "ok": one["balances_correct"] and twenty["balances_correct"],
        }
    )
    t0, t200 = results["tradein"]["none"], results["tradein"]["200"]
    extra = t200["requests"] - t0["requests"]
    rows.append(
        {
            "figure": "trade-in nightly, 200 open not-due claims vs none",
            "target": "<= +5",
            "measured": f"+{extra}",
            "ok": extra <= 5,
        }
    )
    proj = results["projection"]
    workers = results["parallelism"]
    for name in ("mid", "high"):
        secs = proj[name]["seconds_at_parallelism"]
        rows.append(
            {
                "figure": f"1M-lot night, {name} latency, {workers} workers",
                "target": f"<= {NIGHT_TARGET_S} s",
                "measured": f"{secs} s",
                "ok": secs <= NIGHT_TARGET_S,
            }
        )
    serial = proj["high"]["serial_seconds"]
    rows.append(
        {
            "figure": "1M-lot night, today's serial loop (high latency)",
            "target": f"<= {NIGHT_TARGET_S} s",
            "measured": f"{serial} s ({serial / 3600:.1f} h)",
            "ok": serial <= NIGHT_TARGET_S,
        }
    )
    return rows  # fmt: skip


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hot = results["hot_paths"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 5.5))
    names = list(hot)
    measured_ = [hot[n]["measured"] for n in names]
    targets = [hot[n]["target"] for n in names]
    colours = ["tab:green" if m <= t else "tab:red" for m, t in zip(measured_, targets, strict=True)]
    ys = range(len(names))
    left.barh(list(ys), measured_, color=colours, label="measured")
    left.scatter(targets, list(ys), marker="|", s=400, color="black", label="target", zorder=3)
    left.set_yticks(list(ys), names)
    left.invert_yaxis()
    left.set_xlabel("DynamoDB requests per call")
    left.set_title("Hot paths: requests per operation (green = target met)")
    left.legend(loc="lower right")

    proj = results["projection"]
    ps = sorted(int(p) for p in proj["mid"]["seconds_by_parallelism"])
    for name, style in (("mid", "-o"), ("high", "--s")):
        minutes = [proj[name]["seconds_by_parallelism"][p] / 60 for p in ps]
        right.plot(ps, minutes, style, label=f"{name} latency ({proj[name]['ms_per_lot']} ms/lot)")
    right.axhline(NIGHT_TARGET_S / 60, color="tab:red", linestyle=":", label="target 10 min")
    right.axvline(
        results["parallelism"], color="grey", linestyle=":", label=f"NIGHTLY_PARALLELISM={results['parallelism']}"
    )
    right.set_xscale("log", base=2)
    right.set_yscale("log")
    right.set_xticks(ps, [str(p) for p in ps])
    right.set_xlabel("concurrent workers")
    right.set_ylabel("minutes")
    right.set_title("Projected night of 1,000,000 due lots")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> int:
    started = time.perf_counter()
    OUT.mkdir(exist_ok=True)
    results: dict[str, Any] = {"parallelism": parallelism(), "latency_ms_assumed": LATENCY_MS}
    print("hot paths ...", flush=True)
    results["hot_paths"] = hot_paths()
    print("loyalty nightly 1x / 20x not-due data ...", flush=True)
    results["nightly"] = {"1x": loyalty_night(1), "20x": loyalty_night(20)}
    print("trade-in nightly, no / 200 open claims ...", flush=True)
    results["tradein"] = {"none": tradein_night(0), "200": tradein_night(200)}
    results["projection"] = projection(results["nightly"]["1x"], results["parallelism"])
    rows = table(results)
    results["table"] = rows
    results["seconds"] = round(time.perf_counter() - started, 1)
    (OUT / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    plot(results, OUT / "bench.png")
    width = max(len(r["figure"]) for r in rows)
    print(f"\n{'figure':<{width}}  {'target':<16}  {'measured':<18}  ok")
    for r in rows:
        print(f"{r['figure']:<{width}}  {r['target']:<16}  {r['measured']!s:<18}  {'yes' if r['ok'] else 'NO'}")
    print(f"\nwrote {OUT / 'results.json'} and {OUT / 'bench.png'} in {results['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
