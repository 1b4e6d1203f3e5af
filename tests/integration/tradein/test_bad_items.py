"""One claim whose e-mail SES refuses never stops the nightly run or the proof handler
(issue 9 item 3, API.md "Jobs"): the others proceed, the item is listed in `failures`, counted in
a metric, logged without personal data, and retried by the next run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib import mail
from chalicelib.config import settings
from chalicelib.db import client as aws_client
from chalicelib.tradein import jobs
from tests.integration.tradein.helpers import PDF, claim, other_address, sent_messages

BAD = "kapot@example.nl"


@pytest.fixture
def ses_refuses_one_address() -> Iterator[None]:
    """SES answers 400 MessageRejected for one recipient, its message naming the address as SES's
    does. Injected as SES's answer on the real client (moto accepts any recipient), so the
    application's own `mail.send` meets the refusal."""
    ses = aws_client("ses")

    def refuse(params: dict[str, Any], **kwargs: Any) -> Any:
        if BAD in json.dumps(params.get("body"), default=str):
            error = {"Error": {"Code": "MessageRejected", "Message": f"Illegal address: {BAD}"}}
            return SimpleNamespace(status_code=400, headers={}), error
        return None

    ses.meta.events.register("before-call.ses.SendEmail", refuse, unique_id="refuse-one-address")
    yield
    ses.meta.events.unregister("before-call.ses.SendEmail", unique_id="refuse-one-address")


def _two_claims(tradein: Any) -> tuple[str, str]:
    good = tradein.claim_for("R-GOOD")
    bad = tradein.claim_for("R-BAD", participant={"address": other_address(1), "email": BAD})
    return good, bad


@pytest.mark.rule("T2", "T6", "T15")
def test_a_refused_e_mail_in_the_nightly_run_fails_only_its_claim_and_is_retried(
    tradein, travel, ses_refuses_one_address, monkeypatch, capsys
):
    good, bad = _two_claims(tradein)
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    capsys.readouterr()
    travel("2017-10-09T02:00")  # day 61: neither proof came, both claims lapse with an e-mail

    summary = tradein.nightly("2017-10-09")

    assert summary["lapsed"] == 2
    assert summary["failures"] == [{"id": bad, "reason": "lapse_overdue: MessageRejected"}]
    assert (claim(good).status, claim(bad).status) == ("lapsed", "lapsed")
    assert claim(good).outbox == () and [o.kind for o in claim(bad).outbox] == ["lapsed"]
    out = capsys.readouterr().out
    assert BAD not in out  # T15: the SES message names the address; the log does not
    metrics = [json.loads(line) for line in out.splitlines() if '"NightlyItemFailed"' in line]
    assert len(metrics) == 1
    assert metrics[0]["NightlyItemFailed"] in (1, [1])
    assert (metrics[0]["job"], metrics[0]["step"]) == ("nightly_tradein", "lapse_overdue")

    again = tradein.nightly("2017-10-09")  # SES still refuses: still failed, nothing else stops
    assert again["failures"] == [{"id": bad, "reason": "send_owed_emails: MessageRejected"}]

    ses = aws_client("ses")
    ses.meta.events.unregister("before-call.ses.SendEmail", unique_id="refuse-one-address")  # SES takes it now
    travel("2017-10-10T02:00")
    fixed = tradein.nightly("2017-10-10")
    assert (fixed["failures"], fixed["emails_sent"]) == ([], 1)
    assert claim(bad).outbox == ()
    assert [m.destinations["ToAddresses"] for m in sent_messages()].count([BAD]) == 1


@pytest.mark.rule("T6", "T15")
def test_one_refused_e_mail_does_not_fail_the_other_records_of_an_s3_event(tradein, ses_refuses_one_address, capsys):
    good, bad = _two_claims(tradein)
    bucket = settings().proofs_bucket
    keys = [f"proofs/{good}/u1", f"proofs/{bad}/u1"]
    for key in keys:
        aws_client("s3").put_object(Bucket=bucket, Key=key, Body=PDF)
    event = tradein.client.events.generate_s3_event(bucket, keys[1])
    first = json.loads(json.dumps(event["Records"][0]))
    first["s3"]["object"]["key"] = keys[0]
    event["Records"] = [event["Records"][0], first]  # the bad one first: the good one still runs
    capsys.readouterr()

    answer = jobs.on_proof_uploaded(event)

    assert answer == {
        "processed": 2,
        "failed": 1,
        "attached": 1,
        "failures": [{"id": keys[1], "reason": "proof_uploaded: MessageRejected"}],
    }
    assert (claim(good).status, claim(good).outbox) == ("awaiting_device", ())
    assert claim(bad).status == "awaiting_device" and [o.kind for o in claim(bad).outbox] == ["confirmation"]
    assert BAD not in capsys.readouterr().out
    assert tradein.nightly("2017-09-12")["failures"] == [{"id": bad, "reason": "send_owed_emails: MessageRejected"}]


@pytest.mark.rule("T15")
def test_a_refusal_from_ses_is_raised_without_the_address(aws, ses_refuses_one_address):
    with pytest.raises(mail.MailNotSent) as refused:
        mail.send(mail.Email(to=BAD, subject="s", text="t"), reference="K1")
    assert refused.value.code == "MessageRejected"
    assert BAD not in str(refused.value) and refused.value.__cause__ is None and refused.value.__suppress_context__
