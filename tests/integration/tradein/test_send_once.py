"""Each owed e-mail goes out once (issue 9 item 4): redelivered S3 events racing each other,
overlapping nightly runs, a crash between SES and the strike, over real HTTP with real threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from chalicelib import clock, flows, mail
from chalicelib.config import settings
from chalicelib.db import client as aws_client
from chalicelib.loyalty.earning import record_receipt
from chalicelib.sales import Line, Receipt
from chalicelib.tradein import campaigns, jobs, lifecycle, rules, store
from chalicelib.tradein.registration import Registration
from tests.integration.tradein.helpers import PDF, claim, sent_messages
from tests.nights import tradein_night

ADDRESS = rules.Address(street="Damstraat", house_number=12, postcode="1012 JS", city="Amsterdam", country="NL")
PARTICIPANT = rules.Participant(
    first_name="Jan",
    last_name="Jansen",
    email="jan@example.nl",
    phone="0612345678",
    birth_date=datetime(1980, 5, 17).date(),
    address=ADDRESS,
    iban="NL91ABNA0417164300",
    account_holder="J. Jansen",
)


def _registered(n: int) -> str:
    """A claim of the demo campaign (bought 35 days ago), waiting for its proof."""
    now = clock.now()
    [_, demo] = campaigns.seed_campaigns(now.date())
    receipt_id = f"R-ONCE-{n}"
    line = Line("1", "LT-1", "Laptop", "Lenovo", "laptop", "product", "retailer", 79900, 1)
    record_receipt(
        Receipt(receipt_id=receipt_id, channel="webshop", purchased_at=now - timedelta(days=35), lines=(line,)),
        None,
        {"receipt_id": receipt_id},
    )
    participant = replace(PARTICIPANT, address=replace(ADDRESS, house_number=10 + n))
    device = rules.OldDevice("Dell", "XPS 13", 13.3, now.date() - timedelta(days=700), True, True, True, True, True)
    registration = Registration(demo, receipt_id, "1", participant, device, rules.Declarations(*[True] * 4))
    answer, _ = flows.register_claim(registration, "192.0.2.1", now)
    return str(answer["claim_number"])


def _event(key: str) -> dict[str, Any]:
    return {"Records": [{"s3": {"bucket": {"name": settings().proofs_bucket}, "object": {"key": key}}}]}


def _ses_sent() -> list[Any]:
    return list(ses_backends[DEFAULT_ACCOUNT_ID][settings().aws_region].sent_messages)


def _race(n: int, work: Callable[[], Any]) -> list[Any]:
    start = threading.Barrier(n)
    results: list[Any] = []
    lock = threading.Lock()

    def run() -> None:
        start.wait()
        outcome = work()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.rule("T6")
@pytest.mark.slow
def test_the_same_s3_event_delivered_eight_times_at_once_sends_one_confirmation(moto_server):
    number = _registered(1)
    key = f"proofs/{number}/upload-1"
    aws_client("s3").put_object(Bucket=settings().proofs_bucket, Key=key, Body=PDF)

    results = _race(8, lambda: jobs.on_proof_uploaded(_event(key)))

    assert len(results) == 8
    assert not [r for r in results if r.get("failures")], results
    assert sum(r.get("attached", 0) for r in results) == 1
    confirmations = [m for m in _ses_sent() if number in m.subject]
    assert len(confirmations) == 1
    settled = store.get_claim(number)
    assert settled is not None and settled.status == "awaiting_device" and settled.outbox == ()
    assert [e.detail for e in settled.timeline if e.event == "email"] == ["confirmation"]


@pytest.mark.rule("T6")
@pytest.mark.slow
def test_overlapping_nightly_runs_send_each_owed_e_mail_once(moto_server, monkeypatch):
    numbers = [_registered(n) for n in range(3)]
    real_send = mail.send

    def down(email: Any, reference: str) -> str:
        raise ConnectionError("SES unavailable")

    monkeypatch.setattr(mail, "send", down)
    for number in numbers:
        key = f"proofs/{number}/upload-1"
        aws_client("s3").put_object(Bucket=settings().proofs_bucket, Key=key, Body=PDF)
        assert jobs.on_proof_uploaded(_event(key))["failed"] == 1  # confirmation owed
    monkeypatch.setattr(mail, "send", real_send)
    assert _ses_sent() == []

    results = _race(5, lambda: tradein_night(clock.today()))

    assert [r["failures"] for r in results] == [[]] * 5
    assert sum(r["emails_sent"] for r in results) == 3
    subjects = sorted(m.subject for m in _ses_sent())
    assert len(subjects) == 3 and all(any(n in s for s in subjects) for n in numbers)
    assert all(store.get_claim(n).outbox == () for n in numbers)  # type: ignore[union-attr]


@pytest.mark.rule("T6")
def test_a_crash_after_the_send_and_before_the_strike_does_not_send_again(tradein, monkeypatch):
    number = tradein.claim_for("R-1")

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("lambda died before the strike")

    monkeypatch.setattr(lifecycle, "strike", crash)
    assert tradein.upload(number)["failed"] == 1
    assert len(sent_messages()) == 1
    assert [o.kind for o in claim(number).outbox] == ["confirmation"]
    monkeypatch.undo()

    summary = tradein.nightly("2017-09-12")
    assert summary["failures"] == []
    assert summary["emails_sent"] == 0  # struck, not sent again
    assert len(sent_messages()) == 1
    assert claim(number).outbox == ()
    assert [e.detail for e in claim(number).timeline if e.event == "email"] == ["confirmation"]


@pytest.mark.rule("T6")
def test_a_sender_that_died_holding_an_e_mail_is_replaced_after_the_lease(tradein, monkeypatch, travel):
    number = tradein.claim_for("R-1")

    def died(*args: Any, **kwargs: Any) -> None:
        raise SystemExit("the Lambda was killed while sending")

    monkeypatch.setattr(mail, "send", died)
    with pytest.raises(SystemExit):  # a process death: no handler runs, the claim stays held
        tradein.upload(number)
    monkeypatch.undo()
    assert tradein.nightly("2017-09-12")["emails_sent"] == 0  # still held by the dead sender
    assert sent_messages() == []
    travel("2017-09-12T10:15")  # past the 10-minute lease
    assert tradein.nightly("2017-09-12")["emails_sent"] == 1
    assert len(sent_messages()) == 1
    assert claim(number).outbox == ()
