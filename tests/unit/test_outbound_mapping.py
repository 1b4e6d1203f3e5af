"""Stream record -> domain events (chalicelib/outbound/mapping.py): which changes announce what,
and ids that depend on the change only, never on the stream record that carried it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer

from chalicelib.outbound.mapping import event_id, events_of, table_of

PREFIX = "test-"
STREAM = "arn:aws:dynamodb:eu-west-1:123456789012:table/test-{}/stream/2026-12-02T04:00:00.000"


def _image(item: dict[str, Any] | None) -> dict[str, Any] | None:
    serializer = TypeSerializer()
    return None if item is None else {k: serializer.serialize(v) for k, v in item.items()}


def record(table: str, old: dict[str, Any] | None, new: dict[str, Any] | None, sequence: str = "1") -> dict[str, Any]:
    change: dict[str, Any] = {"SequenceNumber": sequence, "ApproximateCreationDateTime": 1_502_366_400}
    if old is not None:
        change["OldImage"] = _image(old)
    if new is not None:
        change["NewImage"] = _image(new)
    name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
    return {"eventID": f"e-{sequence}", "eventName": name, "eventSourceARN": STREAM.format(table), "dynamodb": change}


ENTRY = {
    "member_id": "m-1",
    "entry_id": "earn#R-1",
    "at": "2017-08-10T14:00:00+02:00",
    "at_key": "2017-08-10T12:00:00.000000Z#earn#R-1",
    "type": "earned",
    "points": Decimal(300),
    "cause": "receipt:R-1",
}
COUPON = {
    "code": "MM-7KQ4",
    "member_id": "m-1",
    "amount_cents": Decimal(2000),
    "points": Decimal(1000),
    "issued_at": "2017-08-10T14:00:00+02:00",
    "issued_on": "2017-08-10",
    "expires_on": "2018-08-10",
    "status": "active",
    "expiry_shard": "S3",
}


def _claim(*timeline: tuple[str, str]) -> dict[str, Any]:
    return {
        "claim_number": "K7Q2M9XP",
        "campaign_id": "meer-laptop-2017",
        "receipt_id": "R-E2E",
        "status": timeline[-1][0],
        "version": Decimal(len(timeline)),
        "participant": '{"email": "jan@example.nl", "iban": "NL91ABNA0417164300"}',
        "timeline": [
            {"at": f"2017-09-1{i}T10:00:00+02:00", "status": s, "event": e} for i, (s, e) in enumerate(timeline)
        ],
    }


def test_the_table_comes_from_the_stream_arn_and_another_stages_tables_are_not_ours() -> None:
    assert table_of(STREAM.format("coupons"), PREFIX) == "coupons"
    assert table_of(STREAM.format("coupons"), "prod-") is None
    assert table_of("not an arn", PREFIX) is None
    assert events_of(record("coupons", None, COUPON), "prod-") == []


@pytest.mark.rule("L12")
def test_a_ledger_entry_is_one_event_whose_id_does_not_depend_on_the_stream_record() -> None:
    [event] = events_of(record("loyalty-history", None, ENTRY, sequence="7"), PREFIX)
    assert event.type == "loyalty.points.earned"
    assert event.occurred_at == ENTRY["at"]
    assert event.subject == {"member_id": "m-1"}
    assert event.data == {"entry_id": "earn#R-1", "points": 300, "cause": "receipt:R-1"}
    [again] = events_of(record("loyalty-history", None, ENTRY, sequence="99"), PREFIX)
    assert again.id == event.id == event_id("loyalty-history", "m-1", "earn#R-1")
    other = events_of(record("loyalty-history", None, {**ENTRY, "entry_id": "earn#R-2"}), PREFIX)[0]
    assert other.id != event.id


@pytest.mark.rule("L13")
def test_entries_a_merge_copies_and_changes_to_an_entry_announce_nothing() -> None:
    copied = {**ENTRY, "member_id": "m-2", "entry_id": "earn#R-1@m-1"}
    assert events_of(record("loyalty-history", None, copied), PREFIX) == []
    assert events_of(record("loyalty-history", ENTRY, ENTRY), PREFIX) == []
    assert events_of(record("loyalty-history", ENTRY, None), PREFIX) == []


@pytest.mark.rule("C1", "C2", "C7", "C8")
def test_coupon_transitions() -> None:
    [issued] = events_of(record("coupons", None, COUPON), PREFIX)
    assert (issued.type, issued.occurred_at) == ("coupon.issued", COUPON["issued_at"])
    assert issued.subject == {"member_id": "m-1", "coupon_code": "MM-7KQ4"}
    assert issued.data == {"amount_cents": 2000, "points": 1000, "expires_on": "2018-08-10"}

    used = {**COUPON, "status": "used", "redeemed_receipt_id": "S-1", "redeemed_at": "2017-08-11T10:00:00+02:00"}
    del used["expiry_shard"]
    [redeemed] = events_of(record("coupons", COUPON, used), PREFIX)
    assert (redeemed.type, redeemed.occurred_at, redeemed.data["receipt_id"]) == (
        "coupon.redeemed",
        "2017-08-11T10:00:00+02:00",
        "S-1",
    )

    active_again = {**COUPON, "restored_at": "2017-08-15T11:00:00+02:00"}
    [restored] = events_of(record("coupons", used, active_again), PREFIX)
    assert (restored.type, restored.data["receipt_id"]) == ("coupon.restored", "S-1")

    used_again = {
        **active_again,
        "status": "used",
        "redeemed_receipt_id": "S-2",
        "redeemed_at": "2017-09-01T10:00:00+02:00",
    }
    [second] = events_of(record("coupons", active_again, used_again), PREFIX)
    assert second.type == "coupon.redeemed" and second.id != redeemed.id  # another redemption, another event

    expired = {**COUPON, "status": "expired", "expired_on": "2018-08-11"}
    [gone] = events_of(record("coupons", COUPON, expired), PREFIX)
    assert (gone.type, gone.occurred_at) == ("coupon.expired", "2018-08-11")


@pytest.mark.rule("L13")
def test_a_coupon_moved_by_a_merge_is_transferred_and_an_index_change_announces_nothing() -> None:
    moved = {**COUPON, "member_id": "m-2", "transferred_from": "m-1"}
    [transferred] = events_of(record("coupons", COUPON, moved), PREFIX)
    assert transferred.type == "coupon.transferred"
    assert transferred.subject["member_id"] == "m-2" and transferred.data["from_member_id"] == "m-1"
    assert transferred.occurred_at == "2017-08-10T12:00:00+00:00"  # the stream's time: the item keeps none
    assert events_of(record("coupons", COUPON, {**COUPON, "expiry_shard": "S5"}), PREFIX) == []


def test_a_claim_announces_each_status_its_write_appended_to_the_timeline() -> None:
    registered = _claim(("awaiting_proof", "registered"))
    [first] = events_of(record("tradein-claims", None, registered), PREFIX)
    assert first.type == "claim.status_changed"
    assert first.subject == {"claim_number": "K7Q2M9XP", "campaign_id": "meer-laptop-2017"}
    assert first.data == {
        "from_status": None,
        "to_status": "awaiting_proof",
        "event": "registered",
        "receipt_id": "R-E2E",
    }

    # One write (the proof check) moves it twice; an e-mail entry in the same status is no move.
    checked = _claim(
        ("awaiting_proof", "registered"),
        ("under_review", "proof_uploaded"),
        ("under_review", "email_sent"),
        ("awaiting_device", "proof_checked"),
    )
    moves = events_of(record("tradein-claims", registered, checked), PREFIX)
    assert [(e.data["from_status"], e.data["to_status"]) for e in moves] == [
        ("awaiting_proof", "under_review"),
        ("under_review", "awaiting_device"),
    ]
    assert len({first.id, *(e.id for e in moves)}) == 3
    # A write that appends nothing (an outbox or index change) announces nothing; a replay the same ids.
    assert events_of(record("tradein-claims", checked, {**checked, "outbox_pending": "pending"}), PREFIX) == []
    assert [e.id for e in events_of(record("tradein-claims", registered, checked, sequence="5"), PREFIX)] == [
        e.id for e in moves
    ]


@pytest.mark.rule("T15")
def test_nothing_personal_of_a_claim_leaves() -> None:
    [event] = events_of(record("tradein-claims", None, _claim(("awaiting_proof", "registered"))), PREFIX)
    text = repr(event.detail())
    assert "jan@example.nl" not in text and "NL91" not in text


def test_other_tables_announce_nothing() -> None:
    assert events_of(record("loyalty-lots", None, {"member_id": "m-1", "lot_id": "l"}), PREFIX) == []
