"""Proofs checked one object at a time (item 5), tracking that tells nothing by cost (item 8),
back-office retries (item 12) and what the participant is told (issue 11)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pynamodb.connection.base
import pytest

from chalicelib import db, tables
from chalicelib.config import settings
from chalicelib.db import client as aws_client
from tests.integration.tradein.helpers import JPEG, PDF, PNG, claim, sent_messages, subjects


def _s3() -> Any:
    return aws_client("s3")


def _upload_key(tradein: Any, number: str) -> str:
    status, body = tradein.api("POST", f"/tradein/claims/{number}/upload", tradein.public, {"postcode": "1012 JS"})
    assert status == 200, body
    return str(body["upload"]["fields"]["key"])


def _put(key: str, body: bytes) -> None:
    _s3().put_object(Bucket=settings().proofs_bucket, Key=key, Body=body)


# --- item 5: every upload a new object, checked on its own ---------------------------------------


@pytest.mark.rule("T13")
def test_each_upload_gets_its_own_key(tradein):
    number = tradein.claim_for("R-1")
    keys = {_upload_key(tradein, number) for _ in range(3)}
    assert len(keys) == 3
    assert all(k.startswith(f"proofs/{number}/") and len(k.split("/")) == 3 for k in keys)


@pytest.mark.rule("T13")
def test_a_proof_overwritten_after_its_check_changes_nothing(tradein):
    number = tradein.claim_for("R-1")
    key = _upload_key(tradein, number)
    _put(key, PDF)
    assert tradein.deliver(key) == {"processed": 1, "attached": 1}
    checked = claim(number)
    stored = _s3().get_object(Bucket=settings().proofs_bucket, Key=checked.proof_key)["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == checked.proof_sha256  # the file kept is the file checked

    _put(key, b"MZ\x90\x00 something else entirely")  # the same upload form used again
    assert tradein.deliver(key) == {"processed": 1, "ignored": 1}
    after = claim(number)
    assert (after.version, after.proof_sha256, after.proof_key) == (
        checked.version,
        checked.proof_sha256,
        checked.proof_key,
    )
    stored = _s3().get_object(Bucket=settings().proofs_bucket, Key=checked.proof_key)["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == checked.proof_sha256
    assert "Contents" not in _s3().list_objects_v2(Bucket=settings().proofs_bucket, Prefix=key)  # removed
    assert tradein.deliver(checked.proof_key) == {"processed": 1, "ignored": 1}  # its own event: nothing
    assert len(sent_messages()) == 1


@pytest.mark.rule("T13")
def test_a_new_object_at_a_refused_key_is_checked_on_its_own(tradein):
    number = tradein.claim_for("R-1")
    key = _upload_key(tradein, number)
    _put(key, b"")
    assert tradein.deliver(key)["refused"] == 1
    assert tradein.deliver(key) == {"processed": 1, "ignored": 1}  # the refused object is gone
    _put(key, PNG)
    assert tradein.deliver(key)["attached"] == 1
    assert claim(number).proof_content_type == "image/png"


@pytest.mark.rule("T13")
def test_a_second_claims_proof_at_its_own_key_is_still_flagged_as_a_duplicate(tradein):
    from tests.integration.tradein.helpers import other_address

    first = tradein.claim_for("R-1")
    second = tradein.claim_for("R-2", participant={"address": other_address(1)})
    for number in (first, second):
        key = _upload_key(tradein, number)
        _put(key, JPEG)
        assert tradein.deliver(key)["attached"] == 1
    assert (claim(first).flags, claim(second).flags) == ((), ("DUPLICATE_PROOF",))


# --- item 8: a wrong postcode costs what an unknown claim costs ----------------------------------


@pytest.fixture
def dynamodb_requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every DynamoDB request PynamoDB makes, as `Operation table` (a botocore event hook)."""
    seen: list[str] = []
    original = db.botocore_session

    def session() -> Any:
        made = original()
        made.register(
            "before-parameter-build.dynamodb",
            lambda model, params, **kw: seen.append(f"{model.name} {params.get('TableName')}"),
        )
        return made

    monkeypatch.setattr(pynamodb.connection.base, "get_session", session)
    tables.reset_connections()
    yield seen
    monkeypatch.setattr(pynamodb.connection.base, "get_session", original)
    tables.reset_connections()


PARTICIPANT_ROUTES = [
    ("GET", "/tradein/claims/{n}?postcode={p}", None),
    ("POST", "/tradein/claims/{n}/upload", {"postcode": "{p}"}),
    ("PATCH", "/tradein/claims/{n}", {"postcode": "{p}", "participant": {"iban": "NL91ABNA0417164300"}}),
    ("POST", "/tradein/claims/{n}/return-request", {"postcode": "{p}"}),
]


@pytest.mark.rule("T14")
@pytest.mark.parametrize(("method", "path", "body"), PARTICIPANT_ROUTES)
def test_a_wrong_postcode_is_answered_exactly_like_an_unknown_claim(tradein, dynamodb_requests, method, path, body):
    number = tradein.claim_for("R-1")

    def ask(n: str, postcode: str) -> tuple[int, Any, list[str]]:
        payload = (
            None if body is None else {k: (v.format(p=postcode) if isinstance(v, str) else v) for k, v in body.items()}
        )
        dynamodb_requests.clear()
        status, answer = tradein.api(method, path.format(n=n, p=postcode), tradein.public, payload)
        return status, answer, list(dynamodb_requests)

    wrong_postcode = ask(number, "9999ZZ")
    unknown_claim = ask("ZZZZ9999", "1012JS")
    assert wrong_postcode[0] == 404
    assert wrong_postcode == unknown_claim  # same status, same body, same DynamoDB requests
    # One read of the look-up key (number + postcode): the claim itself is never read on a miss.
    assert wrong_postcode[2] == ["GetItem test-tradein-claim-keys"]
    assert ask(number, "1012 js")[0] != 404  # the right postcode, spelt differently, finds it


# --- item 12: back-office retries answer the same -------------------------------------------------


def _awaiting_device(tradein: Any) -> str:
    number = tradein.claim_for("R-1")
    tradein.upload(number)
    return number


@pytest.mark.rule("T8")
def test_device_received_twice_answers_the_same(tradein):
    number = _awaiting_device(tradein)
    path = f"/backoffice/claims/{number}/device-received"
    first = tradein.bo("POST", path, {"received_on": "2017-09-12"})
    mails = len(sent_messages())
    assert first[0] == 200 and tradein.bo("POST", path, {"received_on": "2017-09-12"}) == first
    assert len(sent_messages()) == mails
    assert tradein.bo("POST", path, {"received_on": "2017-09-11"})[0] == 409


@pytest.mark.rule("T9")
@pytest.mark.parametrize(
    "inspection",
    [
        {"outcome": "approved"},
        {"outcome": "revised", "reward_cents": 5000, "reason": "Kras op het scherm"},
        {"outcome": "rejected", "reason": "Scherm gebroken"},
    ],
)
def test_the_same_inspection_twice_answers_the_same(tradein, inspection):
    number = _awaiting_device(tradein)
    tradein.bo("POST", f"/backoffice/claims/{number}/device-received", {"received_on": "2017-09-12"})
    path = f"/backoffice/claims/{number}/inspection"
    first = tradein.bo("POST", path, inspection)
    mails = len(sent_messages())
    assert first[0] == 200 and tradein.bo("POST", path, inspection) == first
    assert len(sent_messages()) == mails
    other = {"outcome": "revised", "reward_cents": 4000, "reason": "anders"}
    assert tradein.bo("POST", path, other)[0] == 409


@pytest.mark.rule("T13")
def test_disqualifying_twice_answers_the_same(tradein):
    number = _awaiting_device(tradein)
    path = f"/backoffice/claims/{number}/disqualify"
    first = tradein.bo("POST", path, {"reason": "Aangepaste bon"})
    mails = len(sent_messages())
    assert first[0] == 200 and tradein.bo("POST", path, {"reason": "Aangepaste bon"}) == first
    assert len(sent_messages()) == mails
    assert tradein.bo("POST", path, {"reason": "Iets anders"})[0] == 409


# --- issue 11: refused proofs, next_step, the tracking link -------------------------------------


@pytest.mark.rule("T2", "T13", "T14")
@pytest.mark.parametrize(("content", "reason"), [(b"", "EMPTY"), (b"MZ\x90\x00 exe", "UNSUPPORTED_TYPE")])
def test_a_refused_proof_is_shown_in_tracking_and_e_mailed(tradein, content, reason):
    number = tradein.claim_for("R-1")
    key = _upload_key(tradein, number)
    _put(key, content)
    assert tradein.deliver(key)["refused"] == 1
    status, tracked = tradein.track(number)
    assert status == 200
    assert (tracked["status"], tracked["next_step"]) == ("awaiting_proof", "upload_proof")
    assert tracked["timeline"][-1] == {"at": tracked["timeline"][-1]["at"], "event": "proof_refused", "reason": reason}
    [refusal] = sent_messages()
    assert refusal.subject.startswith("Uw aankoopbewijs kon niet worden gebruikt")
    assert "8 oktober 2017" in refusal.body
    assert tradein.deliver(key) == {"processed": 1, "ignored": 1}  # a redelivery: no second entry or e-mail
    assert len(sent_messages()) == 1
    assert sum(1 for e in claim(number).timeline if e.event == "proof_refused") == 1


@pytest.mark.rule("T2")
def test_a_proof_refused_after_the_window_gets_no_upload_again_e_mail(tradein, travel):
    number = tradein.claim_for("R-1")
    key = _upload_key(tradein, number)
    travel("2017-10-09T09:00")  # day 61: the window closed
    _put(key, b"not a proof")
    assert tradein.deliver(key)["refused"] == 1
    assert sent_messages() == []
    assert tradein.track(number)[1]["next_step"] == "none"


@pytest.mark.rule("T6", "T7", "T14")
def test_next_step_follows_the_claim(tradein, travel):
    number = tradein.claim_for("R-1", participant={"iban": None, "account_holder": None})
    assert tradein.track(number)[1]["next_step"] == "upload_proof"
    tradein.upload(number)
    assert tradein.track(number)[1]["next_step"] == "complete_details"
    patch = {"postcode": "1012JS", "participant": {"iban": "NL91ABNA0417164300", "account_holder": "J. Jansen"}}
    assert tradein.api("PATCH", f"/tradein/claims/{number}", tradein.public, patch)[0] == 200
    assert tradein.track(number)[1]["next_step"] == "send_device"
    tradein.bo("POST", f"/backoffice/claims/{number}/device-received", {"received_on": "2017-09-12"})
    assert tradein.track(number)[1]["next_step"] == "wait"
    tradein.bo("POST", f"/backoffice/claims/{number}/inspection", {"outcome": "rejected", "reason": "kapot"})
    assert tradein.track(number)[1]["next_step"] == "request_return"
    tradein.api("POST", f"/tradein/claims/{number}/return-request", tradein.public, {"postcode": "1012JS"})
    assert tradein.track(number)[1]["next_step"] == "none"


@pytest.mark.rule("T6", "T14")
def test_every_e_mail_links_to_the_tracking_page_of_its_claim(tradein, monkeypatch):
    monkeypatch.setenv("PUBLIC_WEB_URL", "https://inruil.example.nl/web")
    number = tradein.claim_for("R-1")
    tradein.upload(number)
    tradein.bo("POST", f"/backoffice/claims/{number}/device-received", {"received_on": "2017-09-12"})
    link = f"https://inruil.example.nl/web/volg.html?claim={number}"
    assert len(subjects()) == 2
    assert all(link in m.body for m in sent_messages())
