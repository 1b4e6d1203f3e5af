"""Service-level trade-in behaviour not covered through the routes: IP velocity, proof deadline,
campaign listing, URL-encoded S3 keys, the catch-up route, seeding."""

from __future__ import annotations

from urllib.parse import quote_plus

import pytest

from chalicelib.config import settings
from chalicelib.db import client as aws_client
from chalicelib.tradein import jobs, store
from tests.integration.tradein.helpers import PDF, claim, other_address


@pytest.mark.rule("T13")
def test_many_registrations_from_one_ip_address_on_one_day_are_flagged(tradein, monkeypatch):
    monkeypatch.setenv("TRADEIN_IP_VELOCITY_PER_DAY", "2")
    numbers = [tradein.claim_for(f"R-{i}", participant={"address": other_address(i)}) for i in range(3)]
    assert [claim(n).flags for n in numbers] == [(), (), ("IP_VELOCITY",)]
    assert claim(numbers[2]).timeline[-1].event == "flag"


@pytest.mark.rule("T2")
def test_a_claim_without_proof_lapses_after_the_registration_window(tradein, travel):
    number = tradein.claim_for("R-1")
    assert tradein.nightly("2017-10-08")["lapsed"] == 0
    travel("2017-10-09T02:00")
    assert tradein.nightly("2017-10-09")["lapsed"] == 1
    assert claim(number).lapse_reason == "PROOF_NOT_RECEIVED"
    status, body = tradein.api("POST", f"/tradein/claims/{number}/upload", tradein.public, {"postcode": "1012JS"})
    # No proof was ever received: the window closed (422), as before the nightly run lapsed it.
    assert (status, body["code"]) == (422, "OUTSIDE_REGISTRATION_WINDOW")


def test_a_campaign_with_claims_in_progress_stays_listed(tradein, travel):
    number = tradein.claim_for("R-1")
    tradein.upload(number)
    tradein.bo("POST", f"/backoffice/claims/{number}/device-received", {"received_on": "2017-09-12"})
    travel("2017-11-01T10:00")
    _, body = tradein.api("GET", "/tradein/campaigns")
    assert "meer-laptop-2017" in [c["campaign_id"] for c in body["items"]]
    assert store.has_open_claims("meer-laptop-2017")


def test_s3_keys_arrive_url_encoded(tradein):
    number = tradein.claim_for("R-1")
    key = f"proofs/{number}/mijn bon (1).pdf"
    aws_client("s3").put_object(Bucket=settings().proofs_bucket, Key=key, Body=PDF)
    event = tradein.client.events.generate_s3_event(settings().proofs_bucket, quote_plus(key, safe="/"))
    assert jobs.on_proof_uploaded(event) == {"processed": 1, "attached": 1}
    assert claim(number).proof_upload_key == key


def test_uploads_outside_proofs_or_for_unknown_claims_are_ignored(tradein):
    bucket = settings().proofs_bucket
    assert jobs.on_proof_uploaded(tradein.client.events.generate_s3_event(bucket, "labels/X.pdf"))["ignored"] == 1
    aws_client("s3").put_object(Bucket=bucket, Key="proofs/NOPE2222/a.pdf", Body=PDF)
    assert jobs.on_proof_uploaded(tradein.client.events.generate_s3_event(bucket, "proofs/NOPE2222/a.pdf")) == {
        "processed": 1,
        "ignored": 1,
    }


def test_the_back_office_can_run_the_nightly_job_for_a_missed_night(tradein, travel, drain):
    number = tradein.claim_for("R-1")
    travel("2017-10-12T10:00")
    status, body = tradein.bo("POST", "/backoffice/jobs/nightly_tradein/runs", {"as_of": "2017-10-10"})
    assert status == 202
    drain()  # the workers run it in the background
    _, run = tradein.bo("GET", f"/backoffice/jobs/nightly_tradein/runs/{body['run_id']}")
    assert run["status"] == "done" and run["summary"]["lapsed"] == 1
    assert claim(number).status == "lapsed"
