"""Personal data never reaches the logs (T15), over a whole claim's life."""

from __future__ import annotations

import logging

import pytest

from chalicelib.observability import logger
from tests.integration.tradein.helpers import PARTICIPANT

PERSONAL = (
    PARTICIPANT["first_name"],
    PARTICIPANT["last_name"],
    PARTICIPANT["email"],
    PARTICIPANT["phone"],
    PARTICIPANT["birth_date"],
    PARTICIPANT["iban"],
    PARTICIPANT["account_holder"],
    PARTICIPANT["address"]["street"],
    "1012 JS",
    "1012JS",
)


@pytest.mark.rule("T15")
def test_a_claims_whole_life_logs_ids_and_counts_only(tradein, travel, capfd, caplog):
    caplog.set_level(logging.DEBUG, logger=logger.name)
    level = logger.log_level
    logger.setLevel(logging.DEBUG)
    try:
        number = tradein.claim_for("R-1")
        tradein.upload(number)
        tradein.bo("POST", f"/backoffice/claims/{number}/device-received", {"received_on": "2017-09-12"})
        tradein.bo("POST", f"/backoffice/claims/{number}/inspection", {"outcome": "approved"})
        tradein.bo("GET", "/backoffice/claims")
        travel("2017-09-13T02:00")
        tradein.nightly("2017-09-13")
        travel("2017-09-14T02:00")
        tradein.nightly("2017-09-14")
        tradein.register("R-1", participant={"birth_date": "2010-01-01"})
    finally:
        logger.setLevel(level)
    logged = capfd.readouterr().out + "".join(str(r.__dict__) for r in caplog.records if r.name == logger.name)
    assert number in logged  # the logs do carry ids
    leaked = [value for value in PERSONAL if value in logged]
    assert leaked == []
