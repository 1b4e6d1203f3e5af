"""DynamoDB's TransactionConflict, which moto never produces, injected (STYLE: monkeypatch)."""

from __future__ import annotations

import pytest
from pynamodb.connection.base import Connection
from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError

from tests.integration.tradein.helpers import claim


def _conflict_once(monkeypatch) -> list[int]:
    real = Connection.transact_write_items
    calls: list[int] = []

    def flaky(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            cause = VerboseClientError(
                {"Error": {"Code": "TransactionCanceledException", "Message": "conflict"}},
                "TransactWriteItems",
                cancellation_reasons=[CancellationReason(code="TransactionConflict"), None, None],
            )
            raise TransactWriteError("Failed to write transaction items", cause=cause)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Connection, "transact_write_items", flaky)
    return calls


@pytest.mark.rule("T3")
def test_a_registration_that_met_a_transaction_conflict_is_tried_again(tradein, monkeypatch):
    tradein.receipt("R-1")
    calls = _conflict_once(monkeypatch)
    status, body = tradein.register("R-1")
    assert status == 201, body
    assert len(calls) == 2
    assert claim(body["claim_number"]).status == "awaiting_proof"


def test_a_claim_change_that_met_a_transaction_conflict_is_409_and_changes_nothing(tradein, monkeypatch):
    number = tradein.claim_for("R-1")
    _conflict_once(monkeypatch)
    status, body = tradein.bo("POST", f"/backoffice/claims/{number}/disqualify", {"reason": "Fraude"})
    assert (status, body["code"]) == (409, "CLAIM_CHANGED")
    assert claim(number).status == "awaiting_proof"
    status, body = tradein.bo("POST", f"/backoffice/claims/{number}/disqualify", {"reason": "Fraude"})
    assert (status, body["status"]) == (200, "disqualified")
