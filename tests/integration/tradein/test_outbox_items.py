"""The claim's outbox with typed facts: a bad fact is refused when the claim moves (nothing is
written, nothing owed), each item keeps the day its deadlines count from, and items written by
the code before the typed facts (no `owed_on`) are still sent, with the same text."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from chalicelib import clock
from chalicelib.tradein import inspection, lifecycle, store
from chalicelib.tradein.models import ClaimModel
from tests.integration.tradein.helpers import claim, registration, sent_messages, subjects


def _failing_mail(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib import mail

    def failing(email, reference):
        raise ConnectionError("SES unavailable")

    monkeypatch.setattr(mail, "send", failing)


def _received(tradein, travel) -> str:
    number = tradein.claim_for("R-1")
    tradein.upload(number)
    travel("2017-09-18T10:00")
    status, body = tradein.bo("POST", f"/backoffice/claims/{number}/device-received", {"received_on": "2017-09-18"})
    assert status == 200, body
    return number


def _incomplete(tradein) -> str:
    """A claim without bank details, uploaded on Tuesday 12 September: `incomplete` (T7)."""
    tradein.receipt("R-1")
    body = registration("R-1")
    del body["participant"]["iban"], body["participant"]["account_holder"]
    status, answer = tradein.api("POST", "/tradein/claims", tradein.public, body)
    assert status == 201
    tradein.upload(answer["claim_number"])
    return answer["claim_number"]


def _old_form(number: str) -> None:
    """Rewrite the claim's outbox as the code before the typed facts stored it: no `owed_on`."""
    model = ClaimModel.get(number)
    model.outbox = [{k: v for k, v in item.items() if k != "owed_on"} for item in model.outbox]
    model.save()


@pytest.mark.rule("T9")
def test_a_bad_fact_is_refused_when_the_claim_moves_not_when_the_e_mail_is_sent(tradein, travel):
    number = _received(tradein, travel)
    before = claim(number)
    sent = len(sent_messages())
    # The route refuses a rejection without a reason (422); called past it, the e-mail's facts
    # refuse it before anything is written, instead of an e-mail that can never be sent.
    with pytest.raises(ValidationError, match="reason"):
        inspection.inspect(number, "rejected", None, None, clock.now())
    after = claim(number)
    assert (after.status, after.version, after.outbox) == ("device_received", before.version, ())
    assert len(sent_messages()) == sent
    assert tradein.nightly("2017-09-19")["emails_sent"] == 0


@pytest.mark.rule("T7")
def test_an_owed_e_mail_keeps_the_day_its_deadline_counts_from(tradein, monkeypatch):
    _failing_mail(monkeypatch)
    [item] = claim(_incomplete(tradein)).outbox
    assert (item.kind, item.owed_on) == ("incomplete", date(2017, 9, 12))
    assert item.facts == {"missing": ["iban", "account_holder"], "complete_by": "2017-09-21"}


@pytest.mark.rule("T7")
def test_an_old_form_incomplete_e_mail_is_sent_and_still_moves_its_deadline(tradein, travel, monkeypatch):
    from chalicelib import mail

    real_send = mail.send
    _failing_mail(monkeypatch)
    number = _incomplete(tradein)
    monkeypatch.setattr(mail, "send", real_send)
    _old_form(number)
    assert claim(number).outbox[0].owed_on is None
    travel("2017-09-13T02:00")
    assert tradein.nightly("2017-09-13")["emails_sent"] == 1  # Wednesday, a day late
    sent = claim(number)
    assert (sent.outbox, sent.complete_by) == ((), date(2017, 9, 22))
    text = sent_messages()[-1].body
    assert "22 september 2017" in text and "IBAN (bankrekeningnummer)" in text


@pytest.mark.rule("T6", "T9")
def test_old_form_confirmation_and_approval_e_mails_are_sent_as_before(tradein, travel, monkeypatch):
    from chalicelib import mail

    real_send = mail.send
    _failing_mail(monkeypatch)
    number = tradein.claim_for("R-1")
    tradein.upload(number)  # the confirmation stays owed
    monkeypatch.setattr(mail, "send", real_send)
    _old_form(number)
    travel("2017-09-13T02:00")
    assert tradein.nightly("2017-09-13")["emails_sent"] == 1
    assert subjects()[-1] == f"Uw registratie is compleet: stuur uw oude laptop op (claim {number})"
    confirmation = sent_messages()[-1].body
    assert "uiterlijk 8 oktober 2017 bij ons binnen" in confirmation and "/labels/" in confirmation

    travel("2017-09-18T10:00")
    tradein.bo("POST", f"/backoffice/claims/{number}/device-received", {"received_on": "2017-09-18"})
    _failing_mail(monkeypatch)
    tradein.bo("POST", f"/backoffice/claims/{number}/inspection", {"outcome": "approved"})  # SES fails
    owed = claim(number)
    assert (owed.status, [item.kind for item in owed.outbox]) == ("approved", ["approved"])
    monkeypatch.setattr(mail, "send", real_send)
    _old_form(number)
    assert tradein.nightly("2017-09-19")["emails_sent"] == 1  # the owed approval (the payout's own follows)
    [approval] = [m for m in sent_messages() if m.subject == f"Uw oude laptop is goedgekeurd (claim {number})"]
    assert "U ontvangt € 100,00." in approval.body
    assert claim(number).outbox == ()


def test_a_stored_item_that_does_not_read_back_holds_no_sending_lease(tradein):
    number = _incomplete(tradein)
    model = ClaimModel.get(number)
    model.outbox = [{"item_id": "approved-9", "kind": "approved", "facts": {"reward_cents": "100"}}]
    model.save()
    with pytest.raises(ValidationError):
        lifecycle.flush(claim(number), clock.now())
    assert store.claim_number_for(f"email#{number}#approved-9") is None  # nothing held, nothing sent
    assert [item.item_id for item in claim(number).outbox] == ["approved-9"]  # still owed
