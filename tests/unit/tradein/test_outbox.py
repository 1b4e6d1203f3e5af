"""The typed facts of the trade-in e-mails (T6-T13): checked once when built, stored as JSON and
read back into the same model; outbox items written before the models read the same way."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.tradein import outbox
from tests.unit.tradein_blocks.test_emails import SAMPLE_FACTS

# Outbox items' facts exactly as the code before the models wrote them (lifecycle._fact_json:
# dates as ISO text, everything else as it was), one per kind.
OLD_FORM: dict[str, dict[str, Any]] = {
    "proof_refused": {"reason": "UNSUPPORTED_TYPE", "upload_by": "2017-10-08"},
    "confirmation": {"ship_by": "2017-10-05"},
    "incomplete": {"missing": ["iban", "account_holder"], "complete_by": "2017-09-29"},
    "device_received": {},
    "approved": {"reward_cents": 10000},
    "revised": {"reward_cents": 7550, "reason": "Kras op het scherm"},
    "rejected": {"reason": "Het scherm is gebroken", "return_request_by": "2017-10-24"},
    "rejected_late": {"received_on": "2017-10-07", "deadline": "2017-10-05"},
    "return_requested": {},
    "payout_scheduled": {
        "amount_cents": 10000,
        "execution_date": "2017-10-20",
        "iban_masked": "NL** **** **** **43 00",
    },
    "paid": {"amount_cents": 10000, "iban_masked": "NL** **** **** **43 00"},
    "void": {},
    "lapsed": {"reason": "De laptop is niet op tijd ontvangen"},
    "disqualified": {"reason": "Het aankoopbewijs is aangepast"},
}


@pytest.mark.parametrize("kind", list(SAMPLE_FACTS))
def test_every_kind_round_trips_through_its_json(kind: str) -> None:
    facts = SAMPLE_FACTS[kind]
    stored = json.loads(json.dumps(outbox.dump(facts)))  # what DynamoDB's JSON attribute gives back
    assert "kind" not in stored  # the item keeps the kind beside its facts
    loaded = outbox.load(kind, stored)
    assert loaded == facts and type(loaded) is type(facts)


@pytest.mark.parametrize("kind", list(SAMPLE_FACTS))
def test_an_item_written_before_the_models_reads_into_the_same_model(kind: str) -> None:
    assert outbox.load(kind, OLD_FORM[kind]) == SAMPLE_FACTS[kind]
    # The stored shape did not change: the new code writes what the old code wrote.
    assert outbox.dump(SAMPLE_FACTS[kind]) == OLD_FORM[kind]


def test_texts_are_stripped_when_built_and_when_read_back() -> None:
    assert outbox.Lapsed(reason="  Te laat  ").reason == "Te laat"
    assert outbox.load("revised", {"reward_cents": 7550, "reason": " Kras "}) == outbox.Revised(
        reward_cents=7550, reason="Kras"
    )


@pytest.mark.parametrize(
    ("model", "facts"),
    [
        (outbox.Approved, {"reward_cents": 100.0}),
        (outbox.Approved, {"reward_cents": "100"}),
        (outbox.Approved, {"reward_cents": True}),
        (outbox.Approved, {"reward_cents": 0}),
        (outbox.Approved, {"reward_cents": None}),
        (outbox.Paid, {"amount_cents": -1, "iban_masked": "NL** **** **** **43 00"}),
        (outbox.Paid, {"amount_cents": 100, "iban_masked": "NL91ABNA0417164300"}),  # T15: never a full IBAN
        (outbox.Paid, {"amount_cents": 100, "iban_masked": ""}),
        (outbox.Confirmation, {"ship_by": "2017-10-05"}),
        (outbox.Confirmation, {"ship_by": datetime(2017, 10, 5, 12)}),
        (outbox.Confirmation, {"ship_by": date(2017, 10, 5), "label_url": "https://x"}),  # presigned at send
        (outbox.Rejected, {"reason": "  ", "return_request_by": date(2017, 10, 24)}),
        (outbox.Rejected, {"reason": None, "return_request_by": date(2017, 10, 24)}),
        (outbox.Rejected, {"reason": "Kapot"}),  # the deadline is missing
        (outbox.Incomplete, {"missing": (), "complete_by": date(2017, 9, 29)}),
        (outbox.Incomplete, {"missing": "iban", "complete_by": date(2017, 9, 29)}),
        (outbox.Void, {"iban": "NL91ABNA0417164300"}),
        (outbox.Lapsed, {"reason": "Te laat", "kind": "void"}),
    ],
)
def test_a_mistyped_missing_unexpected_or_impossible_fact_is_refused_when_built(
    model: type[outbox.Facts], facts: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        model(**facts)


def test_a_bad_stored_item_is_refused_when_read_back() -> None:
    with pytest.raises(ValidationError):
        outbox.load("approved", {"reward_cents": "100"})
    with pytest.raises(ValidationError):
        outbox.load("welcome", {})
    with pytest.raises(ValidationError):
        outbox.load("confirmation", {"ship_by": "5 oktober"})


def test_facts_are_frozen() -> None:
    with pytest.raises(ValidationError):
        SAMPLE_FACTS["approved"].reward_cents = 1  # type: ignore[misc,union-attr]
