"""The `on_proof_uploaded` handler: type and size checks, hashing, duplicate proofs, replays (T2, T6, T7, T13)."""

from __future__ import annotations

import pytest

from chalicelib import mail
from chalicelib.config import settings
from chalicelib.db import client as aws_client
from chalicelib.tradein import jobs, lifecycle
from tests.integration.tradein.helpers import PDF, PNG, claim, other_address, sent_messages, subjects


@pytest.mark.rule("T6")
def test_a_duplicate_s3_event_changes_nothing_twice(tradein):
    number = tradein.claim_for("R-1")
    assert tradein.upload(number) == {"processed": 1, "attached": 1}
    before = claim(number)
    assert len(sent_messages()) == 1
    assert tradein.deliver(f"proofs/{number}/bon.pdf") == {"processed": 1, "replayed": 1}
    after = claim(number)
    assert (after.status, after.version, after.timeline) == (before.status, before.version, before.timeline)
    assert len(sent_messages()) == 1


@pytest.mark.rule("T13")
def test_the_same_proof_for_two_claims_is_flagged(tradein):
    first = tradein.claim_for("R-1")
    second = tradein.claim_for("R-2", participant={"address": other_address(1)})
    tradein.upload(first)
    tradein.upload(second, name="kopie.pdf")
    assert claim(first).flags == ()
    assert claim(second).flags == ("DUPLICATE_PROOF",)
    assert claim(second).proof_sha256 == claim(first).proof_sha256
    status, body = tradein.bo("GET", "/backoffice/claims?status=awaiting_device")
    assert status == 200
    flags = {item["claim_number"]: item["flags"] for item in body["items"]}
    assert flags == {first: [], second: ["DUPLICATE_PROOF"]}


@pytest.mark.rule("T13")
def test_the_real_type_is_sniffed_from_the_bytes(tradein):
    number = tradein.claim_for("R-1")
    key = f"proofs/{number}/bon.pdf"
    aws_client("s3").put_object(
        Bucket=settings().proofs_bucket, Key=key, Body=b"MZ\x90\x00 not a pdf", ContentType="application/pdf"
    )
    assert tradein.deliver(key)["refused"] == 1
    refused = claim(number)
    assert refused.status == "awaiting_proof"
    assert [(e.event, e.detail) for e in refused.timeline[-2:]] == [
        ("proof_refused", "UNSUPPORTED_TYPE"),
        ("email", "proof_refused"),
    ]
    assert "Contents" not in aws_client("s3").list_objects_v2(Bucket=settings().proofs_bucket, Prefix=key)
    assert tradein.upload(number, PNG, "bon.png")["attached"] == 1
    assert claim(number).proof_content_type == "image/png"


@pytest.mark.rule("T6")
def test_a_redelivered_event_for_a_refused_and_deleted_proof_is_ignored(tradein):
    number = tradein.claim_for("R-1")
    key = f"proofs/{number}/bon.pdf"
    aws_client("s3").put_object(Bucket=settings().proofs_bucket, Key=key, Body=b"MZ\x90\x00 not a pdf")
    assert tradein.deliver(key)["refused"] == 1
    before = claim(number)
    assert tradein.deliver(key) == {"processed": 1, "ignored": 1}  # the object is gone: no crash
    assert (claim(number).status, claim(number).version) == ("awaiting_proof", before.version)
    assert tradein.upload(number)["attached"] == 1


@pytest.mark.rule("T13")
def test_a_proof_over_the_size_limit_is_refused(tradein, monkeypatch):
    number = tradein.claim_for("R-1")
    key = f"proofs/{number}/groot.pdf"
    aws_client("s3").put_object(Bucket=settings().proofs_bucket, Key=key, Body=PDF + b"0" * 200)
    monkeypatch.setenv("PROOF_MAX_BYTES", "100")
    event = tradein.client.events.generate_s3_event(settings().proofs_bucket, key)
    assert jobs.on_proof_uploaded(event)["refused"] == 1
    assert claim(number).status == "awaiting_proof"


@pytest.mark.rule("T2")
def test_a_proof_after_the_registration_window_lapses_the_claim(tradein, travel):
    number = tradein.claim_for("R-1")
    travel("2017-10-09T08:00")
    assert tradein.upload(number)["lapsed"] == 1
    assert claim(number).status == "lapsed"
    assert "vervallen" in subjects()[-1]


@pytest.mark.rule("T6")
def test_an_interrupted_upload_is_finished_and_confirmed_by_the_nightly_run(tradein, monkeypatch):
    number = tradein.claim_for("R-1")

    def crash(*args, **kwargs):
        raise RuntimeError("lambda timed out")

    # The proof is attached and reviewed in one write; the run dies before the confirmation goes out.
    monkeypatch.setattr(lifecycle, "_send", crash)
    answer = tradein.upload(number)
    assert answer["failed"] == 1 and answer["failures"][0]["reason"] == "proof_uploaded: RuntimeError"
    assert claim(number).status == "awaiting_device"
    assert [o.kind for o in claim(number).outbox] == ["confirmation"]
    monkeypatch.undo()
    summary = tradein.nightly("2017-09-12")
    assert summary["emails_sent"] == 1
    assert claim(number).status == "awaiting_device"
    assert subjects()[-1].startswith("Uw registratie is compleet")
    assert [e.detail for e in claim(number).timeline if e.event == "email"] == ["confirmation"]


@pytest.mark.rule("T6")
def test_an_email_that_failed_is_sent_by_the_nightly_run(tradein, monkeypatch):
    number = tradein.claim_for("R-1")
    real_send = mail.send

    def failing(email, reference):
        raise ConnectionError("SES unavailable")

    monkeypatch.setattr(mail, "send", failing)
    assert tradein.upload(number)["failed"] == 1  # isolated: the event run does not fail
    stuck = claim(number)
    assert stuck.status == "awaiting_device" and [o.kind for o in stuck.outbox] == ["confirmation"]
    monkeypatch.setattr(mail, "send", real_send)
    assert tradein.nightly("2017-09-13")["emails_sent"] == 1
    assert claim(number).outbox == ()
    assert len(sent_messages()) == 1
    assert tradein.nightly("2017-09-13")["emails_sent"] == 0
