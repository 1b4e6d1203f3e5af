"""Trade-in nights and writes follow due work (issue 12, part 3), counted with the botocore hook of
`scripts/request_count.py`: counts, not timings."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from chalicelib import clock
from chalicelib.tradein import payout_store, payouts
from chalicelib.tradein.isolation import ItemFailures
from scripts.request_count import count_requests
from tests.integration.tradein.helpers import claim, other_address


def _batch(batch_id: str, execution: str, claims: list[str] | None = None) -> dict[str, object]:
    return {
        "batch_id": batch_id,
        "execution_date": execution,
        "created_on": execution,
        "claims": claims or [],
        "total_cents": 0,
        "file_key": f"payouts/{batch_id}.xml",
    }


def _settled_history(n: int) -> None:
    """`n` batches paid and settled long ago, with ids after the due one (newest first in a list)."""
    for i in range(n):
        batch_id = f"P201709{i:02d}-HIST"
        assert payout_store.schedule_batch(_batch(batch_id, "2017-09-01"), [], date(2017, 9, 1))
        assert payout_store.set_batch_status(batch_id, "scheduled", "paid", None, [], date(2017, 9, 1))


@pytest.mark.rule("T11")
def test_settling_reads_the_due_batches_only_and_an_old_batch_settles(tradein):
    # The due batch has the lowest id: a list of the newest 100 batches would never reach it.
    assert payout_store.schedule_batch(_batch("P20170101-OLD", "2017-01-02"), [], date(2017, 1, 1))
    with count_requests() as alone:
        assert payouts.settle_batches(date(2017, 9, 13), ItemFailures("test")) == 1
    assert alone.of("dynamodb") == {"Query": 1, "UpdateItem": 1}, alone

    assert payout_store.schedule_batch(_batch("P20170101-OLD2", "2017-01-02"), [], date(2017, 1, 1))
    _settled_history(101)
    with count_requests() as with_history:
        assert payouts.settle_batches(date(2017, 9, 13), ItemFailures("test")) == 1
    assert with_history.of("dynamodb") == alone.of("dynamodb"), with_history
    assert payout_store.get_batch("P20170101-OLD2")["status"] == "paid"
    with count_requests() as nothing_due:
        assert payouts.settle_batches(date(2017, 9, 13), ItemFailures("test")) == 0
    assert nothing_due.of("dynamodb") == {"Query": 1}, nothing_due


def _approved(tradein, travel, n: int) -> list[str]:
    numbers = []
    for i in range(n):
        number = tradein.claim_for(f"R-{i}", participant={"address": other_address(i)})
        tradein.upload(number)
        numbers.append(number)
    travel("2017-09-18T10:00")
    for number in numbers:
        tradein.bo("POST", f"/backoffice/claims/{number}/device-received", {"received_on": "2017-09-18"})
        status, body = tradein.bo("POST", f"/backoffice/claims/{number}/inspection", {"outcome": "approved"})
        assert status == 200, body
    return numbers


@pytest.mark.rule("T11")
def test_marking_claims_paid_reads_their_batch_once(tradein, travel):
    numbers = _approved(tradein, travel, 3)
    travel("2017-09-19T02:00")
    [batch_id] = payouts.schedule_payouts(date(2017, 9, 19), _now(), ItemFailures("test"))
    travel("2017-09-20T02:00")
    with count_requests() as seen:
        assert payouts.mark_paid(date(2017, 9, 20), _now(), ItemFailures("test")) == 3
    # Per claim: its read (GetItem), its move (one transaction with the counters) and its e-mail
    # (lease PutItem, sent-mark UpdateItem, strike UpdateItem); the batch once: 3 + 1 GetItems.
    ops = seen.of("dynamodb")
    assert ops["GetItem"] == 3 + 1, seen
    assert ops["TransactWriteItems"] == 3, seen
    assert all(claim(n).status == "paid" for n in numbers)
    assert payout_store.get_batch(batch_id)["status"] == "scheduled"


@pytest.mark.rule("T6")
def test_striking_a_sent_e_mail_is_one_conditional_update_not_a_transaction(tradein):
    number = tradein.claim_for("R-1")
    with count_requests() as seen:
        status, _ = tradein.bo("POST", f"/backoffice/claims/{number}/disqualify", {"reason": "Fraude"})
    assert status == 200
    # The move with its counters is the one transaction; the strike of its e-mail an UpdateItem.
    assert seen.of("dynamodb").get("TransactWriteItems") == 1, seen
    assert seen.of("dynamodb").get("UpdateItem") == 2, seen  # the sent mark and the strike
    assert [e.detail for e in claim(number).timeline if e.event == "email"] == ["disqualified"]


def _now() -> datetime:
    return clock.now()


@pytest.mark.rule("T6")
def test_a_proof_upload_writes_the_claim_once_before_its_e_mail(tradein):
    number = tradein.claim_for("R-1")
    with count_requests() as seen:
        assert tradein.upload(number)["attached"] == 1
    ops = seen.of("dynamodb")
    # The claim: one transaction (proof attached, review decided, counters, the proof's key); its
    # e-mail: the lease (PutItem), the sent mark and the strike (UpdateItem each).
    assert ops.get("TransactWriteItems") == 1, seen
    assert ops.get("UpdateItem") == 2, seen
    entries = [(e.event, e.status) for e in claim(number).timeline]
    assert entries[-3:] == [("status", "under_review"), ("status", "awaiting_device"), ("email", "awaiting_device")]
