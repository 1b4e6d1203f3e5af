"""The nightly trade-in run: deadlines (T7, T8, T10), returns (T12), payouts (T11); rerun-safe."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib.tradein import inspection, store
from tests.integration.tradein.helpers import claim, other_address, registration, sent_messages, subjects


def sent_messages_body():
    return sent_messages()[-1].body


def _incomplete(tradein, receipt_id="R-1"):
    tradein.receipt(receipt_id)
    body = registration(receipt_id)
    del body["participant"]["iban"], body["participant"]["account_holder"]
    status, answer = tradein.api("POST", "/tradein/claims", tradein.public, body)
    assert status == 201
    tradein.upload(answer["claim_number"])
    return answer["claim_number"]


def _awaiting_device(tradein, receipt_id="R-1", n=0):
    number = tradein.claim_for(receipt_id, participant={"address": other_address(n)})
    tradein.upload(number)
    return number


def _inspected(tradein, travel, outcome, receipt_id="R-1", n=0, **extra):
    number = _awaiting_device(tradein, receipt_id, n)
    travel("2017-09-18T10:00")
    tradein.bo("POST", f"/backoffice/claims/{number}/device-received", {"received_on": "2017-09-18"})
    status, body = tradein.bo("POST", f"/backoffice/claims/{number}/inspection", {"outcome": outcome, **extra})
    assert status == 200, body
    return number


@pytest.mark.rule("T7")
def test_an_incomplete_claim_lapses_after_seven_working_days(tradein, travel):
    number = _incomplete(tradein)
    assert claim(number).complete_by.isoformat() == "2017-09-21"
    travel("2017-09-22T02:00")
    assert tradein.nightly("2017-09-21")["lapsed"] == 0
    assert tradein.nightly("2017-09-22")["lapsed"] == 1
    lapsed = claim(number)
    assert (lapsed.status, lapsed.lapse_reason) == ("lapsed", "NOT_COMPLETED")
    assert subjects()[-1].startswith("Uw inruilclaim is vervallen")
    assert tradein.nightly("2017-09-22")["lapsed"] == 0
    patch = {"postcode": "1012JS", "participant": {"iban": "NL91ABNA0417164300", "account_holder": "J. Jansen"}}
    status, body = tradein.api("PATCH", f"/tradein/claims/{number}", tradein.public, patch)
    # The same answer as before the nightly run lapsed it: the deadline passed (a rule, 422).
    assert (status, body["code"]) == (422, "COMPLETION_DEADLINE_PASSED")


@pytest.mark.rule("T7")
def test_the_completion_deadline_counts_from_the_day_the_e_mail_actually_went_out(tradein, travel, monkeypatch):
    from chalicelib import mail

    real_send = mail.send

    def failing(email, reference):
        raise ConnectionError("SES unavailable")

    monkeypatch.setattr(mail, "send", failing)
    _incomplete(tradein)  # the upload's e-mail fails; the claim keeps it owed
    monkeypatch.setattr(mail, "send", real_send)
    [stuck] = [c for c in store.claims_in_status("incomplete")]
    assert stuck.complete_by.isoformat() == "2017-09-21"  # planned from Tuesday 12 September
    travel("2017-09-13T02:00")
    assert tradein.nightly("2017-09-13")["emails_sent"] == 1  # the e-mail goes out on Wednesday
    sent = claim(stuck.claim_number)
    assert sent.complete_by.isoformat() == "2017-09-22"
    assert "22 september 2017" in sent_messages_body() and "21 september 2017" not in sent_messages_body()
    assert tradein.track(stuck.claim_number)[1]["deadlines"]["complete_by"] == "2017-09-22"
    travel("2017-09-22T02:00")
    assert tradein.nightly("2017-09-22")["lapsed"] == 0  # still in time on the new last day


@pytest.mark.rule("T7")
def test_completing_after_the_deadline_but_before_the_nightly_run_is_refused(tradein, travel):
    number = _incomplete(tradein)
    travel("2017-09-22T00:30")
    patch = {"postcode": "1012JS", "participant": {"iban": "NL91ABNA0417164300", "account_holder": "J. Jansen"}}
    status, body = tradein.api("PATCH", f"/tradein/claims/{number}", tradein.public, patch)
    assert (status, body["code"]) == (422, "COMPLETION_DEADLINE_PASSED")


@pytest.mark.rule("T8")
def test_a_laptop_not_received_by_day_60_lapses_and_arriving_later_rejects(tradein, travel):
    number = _awaiting_device(tradein)
    assert tradein.nightly("2017-10-08")["lapsed"] == 0  # day 60: still in time
    travel("2017-10-09T02:00")
    assert tradein.nightly("2017-10-09")["lapsed"] == 1
    assert claim(number).lapse_reason == "DEVICE_NOT_RECEIVED"
    travel("2017-10-10T10:00")
    status, body = tradein.bo("POST", f"/backoffice/claims/{number}/device-received", {"received_on": "2017-10-10"})
    assert (status, body["status"]) == (200, "rejected")
    assert subjects()[-1].startswith("Uw oude laptop is te laat ontvangen")
    status, body = tradein.api(
        "POST", f"/tradein/claims/{number}/return-request", tradein.public, {"postcode": "1012JS"}
    )
    assert (status, body["status"]) == (200, "return_requested")


@pytest.mark.rule("T8")
def test_a_laptop_received_on_day_60_but_recorded_after_the_lapse_is_in_time(tradein, travel):
    number = _awaiting_device(tradein)
    travel("2017-10-09T02:00")
    assert tradein.nightly("2017-10-09")["lapsed"] == 1
    travel("2017-10-09T10:00")
    status, body = tradein.bo("POST", f"/backoffice/claims/{number}/device-received", {"received_on": "2017-10-08"})
    assert (status, body["status"]) == (200, "device_received")
    assert subjects()[-1].startswith("Wij hebben uw oude laptop ontvangen")
    status, body = tradein.bo("POST", f"/backoffice/claims/{number}/inspection", {"outcome": "approved"})
    assert (status, body["status"]) == (200, "approved")


@pytest.mark.rule("T8")
def test_a_late_arrival_reported_before_the_nightly_run_rejects(tradein, travel):
    number = _awaiting_device(tradein)
    travel("2017-10-09T09:00")
    status, body = tradein.bo("POST", f"/backoffice/claims/{number}/device-received", {"received_on": "2017-10-09"})
    assert (status, body["status"], body["reason"]) == (200, "rejected", "LAPTOP_RECEIVED_LATE")
    # A retry of the same call answers the same (API.md "Back office"); another day is a conflict.
    assert tradein.bo("POST", f"/backoffice/claims/{number}/device-received", {"received_on": "2017-10-09"}) == (
        status,
        body,
    )
    status, body = tradein.bo("POST", f"/backoffice/claims/{number}/device-received", {"received_on": "2017-10-08"})
    assert (status, body["code"]) == (409, "ILLEGAL_TRANSITION")


@pytest.mark.rule("T8")
def test_arrival_on_day_60_is_in_time_and_e_mailed(tradein, travel):
    number = _awaiting_device(tradein)
    travel("2017-10-08T16:00")
    status, body = tradein.bo("POST", f"/backoffice/claims/{number}/device-received", {"received_on": "2017-10-08"})
    assert (status, body["status"]) == (200, "device_received")
    assert subjects()[-1].startswith("Wij hebben uw oude laptop ontvangen")
    future = tradein.bo("POST", f"/backoffice/claims/{number}/device-received", {"received_on": "2017-10-09"})
    assert future[1]["code"] == "RECEIVED_ON_IN_FUTURE"


@pytest.mark.rule("T9", "T10")
def test_a_rejected_laptop_can_be_asked_back_within_14_working_days_then_lapses(tradein, travel):
    number = _inspected(tradein, travel, "rejected", reason="Scherm gebroken")
    rejected = claim(number)
    assert (rejected.status, rejected.reward_cents) == ("rejected", 0)
    assert rejected.return_request_by.isoformat() == "2017-10-06"  # Monday 18 Sept + 14 working days
    assert subjects()[-1].startswith("Uw oude laptop is afgekeurd")
    travel("2017-10-07T10:00")
    status, body = tradein.api(
        "POST", f"/tradein/claims/{number}/return-request", tradein.public, {"postcode": "1012JS"}
    )
    assert (status, body["code"]) == (422, "RETURN_REQUEST_TOO_LATE")
    assert tradein.nightly("2017-10-06")["lapsed"] == 0
    assert tradein.nightly("2017-10-07")["lapsed"] == 1
    assert claim(number).lapse_reason == "RETURN_NOT_REQUESTED"
    status, body = tradein.api(
        "POST", f"/tradein/claims/{number}/return-request", tradein.public, {"postcode": "1012JS"}
    )
    assert (status, body["code"]) == (422, "RETURN_REQUEST_TOO_LATE")  # still 422 once lapsed (API.md)


@pytest.mark.rule("T10")
def test_return_request_for_a_claim_that_was_not_rejected_is_422(tradein, travel):
    number = _awaiting_device(tradein)
    path = f"/tradein/claims/{number}/return-request"
    status, body = tradein.api("POST", path, tradein.public, {"postcode": "1012JS"})
    assert (status, body["code"], body["details"]) == (422, "RETURN_REQUEST_NOT_ALLOWED", {"status": "awaiting_device"})
    assert claim(number).status == "awaiting_device"


@pytest.mark.rule("T10")
def test_return_request_on_the_last_day_is_accepted_once(tradein, travel):
    number = _inspected(tradein, travel, "rejected", reason="Accu werkt niet")
    travel("2017-10-06T20:00")
    path = f"/tradein/claims/{number}/return-request"
    status, body = tradein.api("POST", path, tradein.public, {"postcode": "1012JS"})
    assert (status, body["status"]) == (200, "return_requested")
    # A retried request answers the same (API.md: 200 within the 14 working days; retried writes are safe).
    assert tradein.api("POST", path, tradein.public, {"postcode": "1012JS"}) == (status, body)
    assert subjects().count(subjects()[-1]) == 1  # the confirmation went out once
    assert tradein.api("POST", path, tradein.public, {"postcode": "9999AA"})[0] == 404


@pytest.mark.rule("T9", "T11")
def test_a_revised_reward_is_paid_and_a_failed_batch_goes_into_the_next_one(tradein, travel):
    number = _inspected(tradein, travel, "revised", reward_cents=6000, reason="Krassen op de behuizing")
    assert subjects()[-1].startswith("Uw oude laptop is gekeurd: aangepaste vergoeding")
    travel("2017-09-19T02:00")
    [first] = tradein.nightly("2017-09-19")["payout_batches"]
    assert tradein.nightly("2017-09-19")["payout_batches"] == []  # rerun: nothing doubled
    status, body = tradein.bo("POST", f"/backoffice/payouts/{first}/failed", {"reason": "Bestand geweigerd"})
    assert (status, body["status"]) == (200, "failed")
    assert claim(number).status == "revised"
    # A retry with the same reason answers the same (the link is signed anew); another reason is 409.
    status, again = tradein.bo("POST", f"/backoffice/payouts/{first}/failed", {"reason": "Bestand geweigerd"})
    assert (status, {**again, "file_url": None}) == (200, {**body, "file_url": None})
    assert claim(number).status == "revised"
    assert (
        tradein.bo("POST", f"/backoffice/payouts/{first}/failed", {"reason": "again"})[1]["code"]
        == "BATCH_NOT_SCHEDULED"
    )
    assert tradein.bo("POST", "/backoffice/payouts/NOPE/failed", {"reason": "x"})[0] == 404
    travel("2017-09-20T02:00")
    [second] = tradein.nightly("2017-09-20")["payout_batches"]
    assert second != first
    _, payouts = tradein.bo("GET", "/backoffice/payouts")
    by_id = {b["batch_id"]: b for b in payouts["items"]}
    assert (by_id[first]["status"], by_id[second]["status"]) == ("failed", "scheduled")
    assert by_id[second]["total_cents"] == 6000 and by_id[second]["execution_date"] == "2017-09-21"
    travel("2017-09-21T02:00")
    summary = tradein.nightly("2017-09-21")
    assert (summary["paid"], summary["batches_settled"]) == (1, 1)
    assert claim(number).status == "paid"
    assert subjects()[-1].startswith("Uw vergoeding is betaald")
    assert tradein.nightly("2017-09-21")["batches_settled"] == 0
    _, payouts = tradein.bo("GET", "/backoffice/payouts")
    assert {b["batch_id"]: b["status"] for b in payouts["items"]}[second] == "paid"


@pytest.mark.rule("T11")
def test_every_claim_is_paid_within_30_days_of_the_success_e_mail(tradein, travel):
    numbers = [_inspected(tradein, travel, "approved", f"R-{i}", i) for i in range(3)]
    travel("2017-09-23T02:00")  # a Saturday: the run is late and on a weekend
    [batch] = tradein.nightly("2017-09-23")["payout_batches"]
    for number in numbers:
        scheduled = claim(number)
        assert scheduled.payout_batch_id == batch
        assert (scheduled.execution_date - scheduled.success_notified_on).days <= 30
        assert scheduled.execution_date.isoformat() == "2017-09-25"


@pytest.mark.rule("T11")
def test_a_first_run_on_day_30_still_dates_the_batch_within_30_days(tradein, travel):
    number = _inspected(tradein, travel, "approved")  # announced Monday 18 September
    travel("2017-10-18T02:00")  # day 30, a Wednesday: the next working day would be day 31
    [batch] = tradein.nightly("2017-10-18")["payout_batches"]
    scheduled = claim(number)
    assert scheduled.execution_date.isoformat() == "2017-10-18"
    _, payouts = tradein.bo("GET", "/backoffice/payouts")
    assert payouts["items"][0]["batch_id"] == batch and payouts["items"][0]["execution_date"] == "2017-10-18"
    travel("2017-10-19T02:00")
    assert tradein.nightly("2017-10-19")["paid"] == 1


@pytest.mark.rule("T12")
def test_the_loyalty_nightly_voids_a_claim_whose_return_died_after_its_ledger_write(tradein, monkeypatch):
    """The return's request crashed before the void and the till never resent it: the loyalty
    nightly's catch-up of returns owing effects voids the claim (the trade-in nightly reads no
    open claims for it any more)."""
    from chalicelib import nightly

    number = _awaiting_device(tradein)

    def crash(event):  # type: ignore[no-untyped-def]
        raise RuntimeError("Lambda timed out")

    monkeypatch.setattr(inspection, "void_for_return", crash)
    body = {"return_id": "RT-1", "returned_at": "2017-09-12T12:00:00+02:00", "lines": [{"line_id": "1", "quantity": 1}]}
    status, _ = tradein.api("POST", "/receipts/R-1/returns", tradein.auth("pos-1", "pos"), body)
    assert status == 500 and claim(number).status == "awaiting_device"
    monkeypatch.undo()
    assert nightly.run("nightly_loyalty", date(2017, 9, 13))["returns_completed"] == 1
    assert claim(number).status == "void" and claim(number).void_return_id == "RT-1"
    assert nightly.run("nightly_loyalty", date(2017, 9, 13))["returns_completed"] == 0


@pytest.mark.rule("T12")
def test_a_scheduled_payout_is_not_voided(tradein, travel):
    number = _inspected(tradein, travel, "approved")
    travel("2017-09-19T02:00")
    tradein.nightly("2017-09-19")
    body = {"return_id": "RT-2", "returned_at": "2017-09-19T12:00:00+02:00", "lines": [{"line_id": "1", "quantity": 1}]}
    status, answer = tradein.api("POST", "/receipts/R-1/returns", tradein.auth("pos-1", "pos"), body)
    assert status == 201 and answer["claims_voided"] == []
    assert claim(number).status == "payout_scheduled"
