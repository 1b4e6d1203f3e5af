"""T11: without a configured paying account no payout is started and no file is written."""

from __future__ import annotations

import pytest

from chalicelib.config import settings
from chalicelib.db import client
from chalicelib.tradein.sepa import PayoutAccountMissing
from tests.integration.tradein.helpers import claim, tradein  # noqa: F401 - a fixture
from tests.integration.tradein.test_nightly import _inspected


def _payout_files() -> list[str]:
    listed = client("s3").list_objects_v2(Bucket=settings().proofs_bucket, Prefix="payouts/")
    return [o["Key"] for o in listed.get("Contents", [])]


@pytest.mark.rule("T11")
@pytest.mark.parametrize("missing", ["ORGANISER_IBAN", "ORGANISER_BIC", "ORGANISER_NAME"])
def test_no_payout_without_the_paying_account(tradein, travel, monkeypatch, missing):  # noqa: F811
    number = _inspected(tradein, travel, "approved")
    monkeypatch.setenv(missing, " ")
    travel("2017-09-19T02:00")
    with pytest.raises(PayoutAccountMissing, match=missing):
        tradein.nightly("2017-09-19")
    assert _payout_files() == []
    assert claim(number).status == "approved"
    monkeypatch.undo()  # the account is configured again: the next run pays
    [batch] = tradein.nightly("2017-09-19")["payout_batches"]
    assert _payout_files() == [f"payouts/{batch}.xml"]
    assert claim(number).status == "payout_scheduled"


def test_the_settings_carry_no_sample_account(monkeypatch):
    for variable in ("ORGANISER_IBAN", "ORGANISER_BIC", "ORGANISER_NAME"):
        monkeypatch.delenv(variable)
    assert (settings().organiser_iban, settings().organiser_bic, settings().organiser_name) == ("", "", "")
