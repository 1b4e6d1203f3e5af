"""Domain events out (issue 16): a full flow's changes arrive on the bus, each valid against its
JSON Schema (docs/events/), once per change when nothing fails, and at least once, under the same
idempotency key, when PutEvents fails, half fails or the publisher dies after it succeeded."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from chalicelib.config import settings
from chalicelib.outbound import mapping
from chalicelib.outbound.mapping import EVENT_TYPES
from scripts.stream_bridge import StreamBridge
from tests.integration.tradein.helpers import IN_WINDOW, PARTICIPANT

from .conftest import PutEventsFaults, Tap

SCHEMAS = Path(__file__).resolve().parents[3] / "docs" / "events"
POS = ("pos-1", "pos")


def line(line_id: str, price: int) -> dict[str, Any]:
    return {
        "line_id": line_id,
        "sku": f"SKU-{line_id}",
        "description": "Laptop 14 inch",
        "brand": "Lenovo",
        "category": "laptop",
        "kind": "product",
        "seller": "retailer",
        "unit_price_cents": price,
        "quantity": 1,
    }


def loyalty_and_coupons(api: Any, auth: Any, travel: Any, run_job: Any, member: str = "m-1") -> list[str]:
    """Join, earn, mature, turn points into two coupons, redeem them, return the order. Returns the codes."""
    travel("2017-08-10T14:00")
    joined = {"email": f"{member}@example.com", "first_name": "Ann", "last_name": "Smit"}
    status, _ = api("POST", "/members", auth(member), {**joined, "newsletter": False, "partner_data_sharing": False})
    assert status == 201
    earn = {
        "channel": "store",
        "purchased_at": "2017-07-01T12:00:00+02:00",
        "member_id": member,
        "lines": [line("1", 300_000)],
    }
    assert api("PUT", f"/receipts/earn-{member}", auth(*POS), earn)[0] == 201
    assert run_job("nightly_loyalty")["status"] == "done"
    codes = []
    for n, amount in enumerate((2000, 4000)):
        status, coupon = api(
            "POST", "/members/me/coupons", auth(member) | {"Idempotency-Key": f"convert-{n}"}, {"amount_cents": amount}
        )
        assert status == 201, coupon
        codes.append(coupon["code"])
    lines = [line("1", 64_900)]
    order = {"receipt_id": f"S-{member}", "member_id": member, "channel": "store", "lines": lines, "codes": codes}
    status, redeemed = api("POST", "/coupons/redeem", auth(*POS), order)
    assert status == 200, redeemed
    sale = {
        "channel": "store",
        "store_id": "S017",
        "purchased_at": "2017-08-10T14:05:00+02:00",
        "member_id": member,
        "coupon_discount_cents": redeemed["discount_cents"],
        "lines": lines,
    }
    assert api("PUT", f"/receipts/S-{member}", auth(*POS), sale)[0] == 201
    travel("2017-08-15T11:00")
    back = {
        "return_id": f"RET-{member}",
        "returned_at": "2017-08-15T11:00:00+02:00",
        "lines": [{"line_id": "1", "quantity": 1}],
    }
    status, returned = api("POST", f"/receipts/S-{member}/returns", auth(*POS), back)
    assert (status, returned["coupons_restored"]) == (201, codes), returned
    return codes


def claim_to_payout(tradein: Any, travel: Any) -> str:
    travel(IN_WINDOW)
    tradein.receipt("R-E2E")
    status, body = tradein.register("R-E2E")
    assert status == 201, body
    number = str(body["claim_number"])
    assert tradein.upload(number)["attached"] == 1
    travel("2017-09-20T11:00")
    assert tradein.bo("POST", f"/backoffice/claims/{number}/device-received", {"received_on": "2017-09-20"})[0] == 200
    assert tradein.bo("POST", f"/backoffice/claims/{number}/inspection", {"outcome": "approved"})[0] == 200
    travel("2017-09-21T02:45")
    tradein.nightly("2017-09-21")
    travel("2017-09-22T02:45")
    assert tradein.nightly("2017-09-22")["paid"] == 1
    return number


def validator(event_type: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{event_type}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def expected_events() -> dict[str, dict[str, Any]]:
    """What the streams announce, read again from their start (a replay): detail by id."""
    found: dict[str, dict[str, Any]] = {}

    def collect(event: dict[str, Any], _context: Any) -> dict[str, Any]:
        for record in event["Records"]:
            for domain_event in mapping.events_of(record, settings().table_prefix):
                found[domain_event.id] = domain_event.detail()
        return {"batchItemFailures": []}

    tables = [f"{settings().table_prefix}{t}" for t in mapping.PUBLISHED_TABLES]
    StreamBridge(tables, collect).drain()
    return found


def by_id(delivered: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    copies: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for message in delivered:
        copies[message["detail"]["id"]].append(message["detail"])
    return copies


def test_every_event_type_has_a_valid_schema() -> None:
    assert sorted(p.name for p in SCHEMAS.glob("*.schema.json")) == sorted(f"{t}.schema.json" for t in EVENT_TYPES)
    for event_type in EVENT_TYPES:
        validator(event_type)


@pytest.mark.rule("L6", "L10", "L11", "C1", "C7", "C8", "T6", "T11")
def test_a_full_flow_publishes_each_change_once_valid_against_its_schema(
    api: Any, auth: Callable[..., Any], travel: Any, run_job: Any, tradein: Any, bridge: StreamBridge, tap: Tap
) -> None:
    codes = loyalty_and_coupons(api, auth, travel, run_job)
    number = claim_to_payout(tradein, travel)
    bridge.drain()
    delivered = tap.read()

    for message in delivered:
        assert message["source"] == "loyalty-backend"
        assert message["detail"]["type"] == message["detail-type"]
        errors = [e.message for e in validator(message["detail-type"]).iter_errors(message["detail"])]
        assert not errors, (message["detail"], errors)
    copies = by_id(delivered)
    assert all(len(c) == 1 for c in copies.values()), "nothing failed: each change arrives once"
    assert set(copies) == set(expected_events())
    details = [m["detail"] for m in delivered]

    # The ledger: one event per history entry of the member, with its points.
    status, history = api("GET", "/members/me/history?limit=100", auth("m-1"))
    assert status == 200
    ledger = [d for d in details if d["type"].startswith("loyalty.points.") and d["subject"]["member_id"] == "m-1"]
    published = sorted((d["type"], d["data"]["points"], d["data"]["cause"]) for d in ledger)
    assert published == sorted((f"loyalty.points.{e['type']}", e["points"], e["cause"]) for e in history["items"])
    assert {"earned", "matured", "spent", "reversed"} <= {e["type"] for e in history["items"]}

    # Each coupon: issued, redeemed for the order, restored by its return.
    for code in codes:
        mine = [d for d in details if d["subject"].get("coupon_code") == code]
        assert [d["type"] for d in mine] == ["coupon.issued", "coupon.redeemed", "coupon.restored"]
        assert mine[1]["data"]["receipt_id"] == mine[2]["data"]["receipt_id"] == "S-m-1"

    # The claim: every move of its timeline, in order, from registration to paid.
    status, tracked = tradein.track(number)
    moves = [(d["data"]["from_status"], d["data"]["to_status"]) for d in details if d["type"] == "claim.status_changed"]
    statuses = [e["status"] for e in tracked["timeline"]]
    deduplicated = [s for i, s in enumerate(statuses) if not i or statuses[i - 1] != s]
    assert moves == list(zip([None, *deduplicated], deduplicated, strict=False))
    assert moves[-1] == ("payout_scheduled", "paid")

    # Only ids leave: nothing of the participant (T15) or the member's profile is on the bus.
    text = json.dumps(delivered)
    for personal in (
        PARTICIPANT["email"],
        PARTICIPANT["iban"],
        PARTICIPANT["last_name"],
        "Damstraat",
        "m-1@example.com",
        "Smit",
    ):
        assert personal not in text


def _coupon_flow_events(api: Any, auth: Any, travel: Any, run_job: Any) -> None:
    loyalty_and_coupons(api, auth, travel, run_job, member="m-7")


def assert_at_least_once(delivered: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Every change arrived, and every copy of an event is the same event under the same id."""
    copies = by_id(delivered)
    expected = expected_events()
    assert set(copies) == set(expected)
    for event_id, versions in copies.items():
        assert all(v == expected[event_id] for v in versions), event_id
    return copies


def test_putevents_failing_every_retry_hands_the_batch_back_and_it_is_delivered_again(
    api: Any, auth: Any, travel: Any, run_job: Any, bridge: StreamBridge, tap: Tap, faults: PutEventsFaults
) -> None:
    _coupon_flow_events(api, auth, travel, run_job)
    faults.error(3)  # the publisher's three attempts at its first call
    bridge.drain()
    copies = assert_at_least_once(tap.read())
    assert not faults.plans
    assert all(len(c) == 1 for c in copies.values())  # nothing was accepted before the retry


def test_entries_refused_by_putevents_are_retried_and_the_rest_of_the_batch_is_delivered_again(
    api: Any, auth: Any, travel: Any, run_job: Any, bridge: StreamBridge, tap: Tap, faults: PutEventsFaults
) -> None:
    _coupon_flow_events(api, auth, travel, run_job)
    faults.partial(3)  # half of each call refused, three calls in a row: the batch is handed back
    bridge.drain()
    copies = assert_at_least_once(tap.read())
    assert not faults.plans
    assert any(len(c) > 1 for c in copies.values()), "records after the first refused one came again"


def test_a_publisher_dying_after_putevents_succeeded_has_the_batch_delivered_again(
    api: Any, auth: Any, travel: Any, run_job: Any, bridge: StreamBridge, tap: Tap, faults: PutEventsFaults
) -> None:
    _coupon_flow_events(api, auth, travel, run_job)
    faults.die_after(2)
    bridge.drain()
    copies = assert_at_least_once(tap.read())
    assert not faults.plans
    duplicated = [c for c in copies.values() if len(c) > 1]
    assert duplicated and all(len({json.dumps(v, sort_keys=True) for v in c}) == 1 for c in duplicated)


def test_a_replay_of_the_stream_gives_the_same_ids(
    api: Any, auth: Any, travel: Any, run_job: Any, bridge: StreamBridge, tap: Tap, client: Any
) -> None:
    """A consumer that deduplicates on the id sees a replayed stream (a new event source mapping
    from TRIM_HORIZON, a restored table) as nothing new."""
    _coupon_flow_events(api, auth, travel, run_job)
    bridge.drain()
    first = by_id(tap.read())
    replay = StreamBridge(bridge.tables, bridge.handler, batch_size=7)
    replay.drain()
    again = by_id(tap.read())
    assert set(again) == set(first) and all(len(c) == 2 for c in again.values())


def test_a_batch_goes_out_in_calls_of_ten_entries(client: Any, tap: Tap, faults: PutEventsFaults) -> None:
    from chalicelib.coupons.models import CouponModel

    for n in range(25):
        CouponModel(
            f"MM-{n:04d}",
            member_id="m-1",
            amount_cents=2000,
            points=1000,
            issued_at="2017-08-10T14:00:00+02:00",
            issued_on="2017-08-10",
            expires_on="2018-08-10",
            status="active",
        ).save()
    tables = [f"{settings().table_prefix}coupons"]
    bridge = StreamBridge(tables, lambda event, _: client.lambda_.invoke("publish_events", event).payload)
    assert bridge.drain() == 25
    assert (bridge.deliveries, faults.calls) == (1, 3)
    assert sorted(m["detail"]["subject"]["coupon_code"] for m in tap.read()) == [f"MM-{n:04d}" for n in range(25)]
