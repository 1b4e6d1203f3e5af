"""One claim from registration to payout, through the routes, the S3 handler and the nightly job."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from chalicelib.config import settings
from chalicelib.db import client as aws_client
from tests.integration.tradein.helpers import claim, sent_messages, subjects

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}


@pytest.mark.rule("T1", "T2", "T6", "T8", "T9", "T11")
def test_a_claim_from_registration_to_the_payout_file(tradein, travel):
    tradein.receipt("R-E2E")
    status, body = tradein.register("R-E2E")
    assert status == 201, body
    number = body["claim_number"]
    assert body["status"] == "awaiting_proof"
    assert body["upload"]["fields"]["key"].startswith(f"proofs/{number}/")

    assert tradein.upload(number)["attached"] == 1
    status, tracked = tradein.track(number)
    assert (status, tracked["status"]) == (200, "awaiting_device")
    assert [e["status"] for e in tracked["timeline"]] == ["awaiting_proof", "under_review", "awaiting_device"]
    assert tracked["deadlines"] == {"device_by": "2017-10-08"}

    confirmation = sent_messages()[-1]
    assert confirmation.destinations["ToAddresses"] == ["jan.jansen@example.nl"]
    assert number in confirmation.subject
    label_url = next(word for word in confirmation.body.split() if "labels/" in word)
    label_url = label_url.split('"')[1] if '"' in label_url else label_url
    pdf = aws_client("s3").get_object(Bucket=settings().proofs_bucket, Key=f"labels/{number}.pdf")["Body"].read()
    assert pdf.startswith(b"%PDF")
    assert f"labels/{number}.pdf" in label_url and "Signature" in label_url

    travel("2017-09-20T11:00")
    status, answer = tradein.bo("POST", f"/backoffice/claims/{number}/device-received", {"received_on": "2017-09-20"})
    assert (status, answer.get("status")) == (200, "device_received"), answer
    status, answer = tradein.bo("POST", f"/backoffice/claims/{number}/inspection", {"outcome": "approved"})
    assert (status, answer["status"], answer["reward_cents"]) == (200, "approved", 10000)

    travel("2017-09-21T02:45")
    summary = tradein.nightly("2017-09-21")
    assert len(summary["payout_batches"]) == 1
    batch_id = summary["payout_batches"][0]
    assert claim(number).status == "payout_scheduled"

    status, payouts = tradein.bo("GET", "/backoffice/payouts")
    assert status == 200
    [batch] = payouts["items"]
    assert (batch["batch_id"], batch["claims"], batch["total_cents"]) == (batch_id, [number], 10000)
    assert batch["execution_date"] == "2017-09-22"  # the next working day, within 30 days of approval (T11)
    key = f"payouts/{batch_id}.xml"
    assert key in batch["file_url"]
    xml = aws_client("s3").get_object(Bucket=settings().proofs_bucket, Key=key)["Body"].read()
    root = ET.fromstring(xml)
    tx = root.find(".//p:CdtTrfTxInf", NS)
    assert tx.find("p:PmtId/p:EndToEndId", NS).text == number
    assert tx.find("p:Amt/p:InstdAmt", NS).text == "100.00"
    assert tx.find("p:Amt/p:InstdAmt", NS).get("Ccy") == "EUR"
    assert tx.find("p:CdtrAcct/p:Id/p:IBAN", NS).text == "NL91ABNA0417164300"
    assert tx.find("p:Cdtr/p:Nm", NS).text == "J. Jansen"
    assert root.find(".//p:PmtInf/p:ReqdExctnDt/p:Dt", NS).text == "2017-09-22"
    assert root.find(".//p:DbtrAcct/p:Id/p:IBAN", NS).text == settings().organiser_iban

    travel("2017-09-22T02:45")
    assert tradein.nightly("2017-09-22")["paid"] == 1
    status, tracked = tradein.track(number)
    assert tracked["status"] == "paid"
    assert [e["status"] for e in tracked["timeline"]][-4:] == [
        "device_received",
        "approved",
        "payout_scheduled",
        "paid",
    ]

    sent = [s.split(" (claim")[0] for s in subjects()]
    assert len(sent) == 5 and all(f"(claim {number})" in s for s in subjects())
    kinds = [e.detail for e in claim(number).timeline if e.event == "email"]
    assert kinds == ["confirmation", "device_received", "approved", "payout_scheduled", "paid"]
    assert "NL91ABNA0417164300" not in "".join(m.body for m in sent_messages())
