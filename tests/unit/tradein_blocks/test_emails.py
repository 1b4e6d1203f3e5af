"""The trade-in e-mails (T6-T13): Dutch, with the claim number, the next step and no personal data."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import ValidationError

from chalicelib.message import Email
from chalicelib.tradein import outbox
from chalicelib.tradein.emails import compose, dutch_date, euro, tracking_url
from chalicelib.tradein.masking import mask_iban
from chalicelib.tradein.workdays import add_working_days

TO = "jozefien.vdberg@voorbeeld.nl"
CLAIM = "K7X-92QF"
TRACK = tracking_url("https://inruil.example/web/", CLAIM)
LABEL = "https://files.example/labels/K7X-92QF.pdf?X-Amz-Signature=ab&x=1"

SAMPLE_FACTS: dict[str, outbox.Facts] = {
    "proof_refused": outbox.ProofRefused(reason="UNSUPPORTED_TYPE", upload_by=date(2017, 10, 8)),
    "confirmation": outbox.Confirmation(ship_by=date(2017, 10, 5)),
    "incomplete": outbox.Incomplete(missing=("iban", "account_holder"), complete_by=date(2017, 9, 29)),
    "device_received": outbox.DeviceReceived(),
    "approved": outbox.Approved(reward_cents=10000),
    "revised": outbox.Revised(reward_cents=7550, reason="Kras op het scherm"),
    "rejected": outbox.Rejected(reason="Het scherm is gebroken", return_request_by=date(2017, 10, 24)),
    "rejected_late": outbox.RejectedLate(received_on=date(2017, 10, 7), deadline=date(2017, 10, 5)),
    "return_requested": outbox.ReturnRequested(),
    "payout_scheduled": outbox.PayoutScheduled(
        amount_cents=10000, execution_date=date(2017, 10, 20), iban_masked="NL** **** **** **43 00"
    ),
    "paid": outbox.Paid(amount_cents=10000, iban_masked="NL** **** **** **43 00"),
    "void": outbox.Void(),
    "lapsed": outbox.Lapsed(reason="De laptop is niet op tijd ontvangen"),
    "disqualified": outbox.Disqualified(reason="Het aankoopbewijs is aangepast"),
}

# Every e-mail as the templates wrote it before the typed facts (subject, text and HTML), to
# prove the texts stayed byte for byte the same.
GOLDEN = json.loads((Path(__file__).parent / "emails_golden.json").read_text(encoding="utf-8"))


def _facts(kind: str, **overrides: Any) -> outbox.Facts:
    """The sample facts of `kind` with some changed, built (and checked) like the lifecycle does."""
    sample = SAMPLE_FACTS[kind]
    return type(sample)(**{**dict(sample), **overrides})


def _mail(kind: str, **overrides: Any) -> Email:
    label = LABEL if kind == "confirmation" else None
    return compose(_facts(kind, **overrides), TO, CLAIM, "Jozefien", tracking_url=TRACK, label_url=label)


def test_every_kind_has_a_sample() -> None:
    assert {facts.kind for facts in SAMPLE_FACTS.values()} == set(SAMPLE_FACTS)
    assert set(SAMPLE_FACTS) == {model.model_fields["kind"].default for model in get_args(outbox.Facts)}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_every_mail_is_byte_for_byte_what_it_was(name: str) -> None:
    golden = GOLDEN[name]
    overrides = {k: tuple(v) if isinstance(v, list) else v for k, v in golden["overrides"].items()}
    mail = _mail(golden["kind"], **overrides)
    assert (mail.subject, mail.text, mail.html) == (golden["subject"], golden["text"], golden["html"])


@pytest.mark.rule("T6", "T7", "T8", "T9", "T10", "T11", "T12", "T13")
@pytest.mark.parametrize("kind", list(SAMPLE_FACTS))
def test_every_mail_names_the_claim_the_next_step_and_greets_by_first_name(kind: str) -> None:
    mail = _mail(kind)
    assert mail.to == TO
    assert CLAIM in mail.subject
    assert mail.html is not None
    for body in (mail.text, mail.html):
        assert f"Claimnummer: {CLAIM}" in body
        assert "Volgende stap" in body
        assert "Beste Jozefien," in body
    assert mail.html.startswith("<!DOCTYPE html>") and 'lang="nl"' in mail.html


@pytest.mark.rule("T15")
@pytest.mark.parametrize("kind", list(SAMPLE_FACTS))
def test_no_personal_data_beyond_the_first_name_and_the_masked_iban(kind: str) -> None:
    mail = _mail(kind)
    for body in (mail.subject, mail.text, mail.html or ""):
        assert "voorbeeld" not in body and "@" not in body
        assert "0417164300" not in body
        # No full IBAN (country, check digits and at least 10 more characters) ever appears.
        assert not re.search(r"\b[A-Z]{2}\d{2}[A-Z0-9]{10,30}\b", body.replace(" ", ""))


@pytest.mark.rule("T6")
def test_confirmation_links_the_return_form_and_names_the_ship_by_date() -> None:
    mail = _mail("confirmation")
    assert "https://files.example/labels/K7X-92QF.pdf?X-Amz-Signature=ab&x=1" in mail.text
    assert 'href="https://files.example/labels/K7X-92QF.pdf?X-Amz-Signature=ab&amp;x=1"' in (mail.html or "")
    assert "retourformulier" in mail.text.lower() and "verzendlabel" in mail.text
    assert "uiterlijk 5 oktober 2017" in mail.text


@pytest.mark.rule("T7")
def test_incomplete_lists_the_missing_fields_and_the_working_day_deadline() -> None:
    sent_on = date(2017, 4, 21)
    mail = _mail("incomplete", complete_by=add_working_days(sent_on, 7))
    assert "IBAN (bankrekeningnummer)" in mail.text
    assert "naam van de rekeninghouder" in mail.text
    assert "uiterlijk 3 mei 2017" in mail.text
    assert "vervalt" in mail.text


@pytest.mark.rule("T8")
def test_device_received_and_late_arrival() -> None:
    assert "ontvangen" in _mail("device_received").subject
    late = _mail("rejected_late")
    assert "7 oktober 2017" in late.text and "5 oktober 2017" in late.text
    assert "afgewezen" in late.text


@pytest.mark.rule("T9")
def test_each_inspection_outcome_gets_its_own_mail() -> None:
    approved, revised = _mail("approved"), _mail("revised")
    rejected = _mail("rejected")
    assert "goedgekeurd" in approved.subject and "€ 100,00" in approved.text
    assert "aangepaste vergoeding" in revised.subject
    assert "€ 75,50" in revised.text and "Kras op het scherm" in revised.text
    assert "afgekeurd" in rejected.subject and "Het scherm is gebroken" in rejected.text
    assert len({approved.subject, revised.subject, rejected.subject}) == 3
    assert "binnen 30 dagen" in approved.text and "binnen 30 dagen" in revised.text


@pytest.mark.rule("T9", "T10")
def test_rejection_names_the_last_day_to_ask_for_the_device_back() -> None:
    rejected_on = date(2017, 4, 13)
    mail = _mail("rejected", return_request_by=add_working_days(rejected_on, 14))
    assert "uiterlijk 8 mei 2017" in mail.text
    assert "Volg uw claim" in mail.text


@pytest.mark.rule("T11")
def test_payout_mails_show_amount_date_and_masked_iban() -> None:
    iban = mask_iban("NL91ABNA0417164300")
    scheduled = _mail("payout_scheduled", amount_cents=123456, iban_masked=iban)
    assert "€ 1.234,56" in scheduled.text and iban in scheduled.text and "20 oktober 2017" in scheduled.text
    paid = _mail("paid", iban_masked=iban)
    assert "€ 100,00" in paid.text and "afgerond" in paid.text


@pytest.mark.rule("T12", "T13")
def test_void_lapsed_and_disqualified() -> None:
    assert "geretourneerd" in _mail("void").text
    assert "De laptop is niet op tijd ontvangen" in _mail("lapsed").text
    disqualified = _mail("disqualified")
    assert "definitief" in disqualified.text and "Het aankoopbewijs is aangepast" in disqualified.text


def test_html_escapes_what_the_back_office_typed() -> None:
    mail = _mail("disqualified", reason="<script>alert(1)</script> & meer")
    assert "<script>" not in (mail.html or "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; meer" in (mail.html or "")
    assert "<script>alert(1)</script> & meer" in mail.text


def test_the_envelope_is_checked() -> None:
    facts = SAMPLE_FACTS["void"]
    for envelope in (
        {"to": TO, "claim_number": "", "first_name": "Jozefien", "tracking_url": TRACK},
        {"to": TO, "claim_number": CLAIM, "first_name": " ", "tracking_url": TRACK},
        {"to": " ", "claim_number": CLAIM, "first_name": "Jozefien", "tracking_url": TRACK},
        {"to": TO, "claim_number": CLAIM, "first_name": "Jozefien", "tracking_url": "javascript:alert(1)"},
    ):
        with pytest.raises(ValueError):
            compose(facts, **envelope)


def test_the_confirmation_needs_its_label_link() -> None:
    with pytest.raises(ValueError, match="label_url"):
        compose(SAMPLE_FACTS["confirmation"], TO, CLAIM, "Jozefien", tracking_url=TRACK)
    with pytest.raises(ValidationError):
        compose(SAMPLE_FACTS["confirmation"], TO, CLAIM, "Jozefien", tracking_url=TRACK, label_url="ftp://x")


@pytest.mark.rule("T14")
@pytest.mark.parametrize("kind", list(SAMPLE_FACTS))
def test_every_mail_links_to_the_tracking_page_with_the_claim_number(kind: str) -> None:
    assert TRACK == "https://inruil.example/web/volg.html?claim=K7X-92QF"
    mail = _mail(kind)
    assert TRACK in mail.text
    assert f'<a href="{TRACK}">' in (mail.html or "")


@pytest.mark.rule("T2", "T13")
@pytest.mark.parametrize(
    ("reason", "words"),
    [("EMPTY", "leeg"), ("TOO_LARGE", "groter dan 10 MB"), ("UNSUPPORTED_TYPE", "geen PDF, JPEG of PNG")],
)
def test_a_refused_proof_mail_says_why_and_until_when_to_upload_again(reason: str, words: str) -> None:
    mail = _mail("proof_refused", reason=reason)
    assert words in mail.text
    assert "opnieuw" in mail.text and "8 oktober 2017" in mail.text


def test_dutch_dates_and_euro_amounts() -> None:
    assert dutch_date(date(2017, 8, 27)) == "27 augustus 2017"
    assert dutch_date(date(2018, 1, 1)) == "1 januari 2018"
    assert dutch_date(date(2017, 3, 9)) == "9 maart 2017"
    assert euro(10000) == "€ 100,00"
    assert euro(5) == "€ 0,05"
    assert euro(0) == "€ 0,00"
    assert euro(123456789) == "€ 1.234.567,89"
    assert euro(-7550) == "€ -75,50"
    with pytest.raises(TypeError):
        euro(1.5)  # type: ignore[arg-type]
