"""T15 at every log level: canary personal data through a member and a claim, logged at DEBUG."""

from __future__ import annotations

import io
import logging

import pytest

from chalicelib.observability import logger
from tests.integration.tradein.helpers import PARTICIPANT, tradein  # noqa: F401 - a fixture

CANARY_EMAIL = "canary.kanarie@example.nl"
CANARY_IBAN = "NL02ABNA0123456789"
CANARY_BIRTH = "1971-03-14"
CANARY_PHONE = "0687654321"
CANARY_NAME = "Kanariepiet"


class Captured:
    """What the service's own handler wrote (its JSON lines) and what any other handler saw."""

    def __init__(self, caplog: pytest.LogCaptureFixture, lines: io.StringIO):
        self.caplog = caplog
        self.lines = lines

    def text(self) -> str:
        # Every field of every record, as a handler could write it; exc_info is the live exception
        # object (no output), its text is in exc_text and in the formatted lines.
        records = "".join(str({k: v for k, v in r.__dict__.items() if k != "exc_info"}) for r in self.caplog.records)
        return self.lines.getvalue() + self.caplog.text + records


@pytest.fixture
def everything_at_debug(caplog):
    """Root and the service's logger at DEBUG (POWERTOOLS_LOG_LEVEL=DEBUG, a DEBUG root logger).

    The service's handler keeps the stream it had at import (pytest's capture then), so it is
    pointed at a buffer for the test: its real formatter writes there.
    """
    level = logger.log_level
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger=logger.name)
    logger.setLevel(logging.DEBUG)
    lines = io.StringIO()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(lines)
    yield Captured(caplog, lines)
    handler.setStream(previous)
    logger.setLevel(level)


@pytest.mark.rule("T15")
def test_debug_logs_of_a_member_and_a_claim_carry_no_personal_data(tradein, everything_at_debug, capfd):  # noqa: F811
    status, _ = tradein.api(
        "POST",
        "/members",
        tradein.auth("m-canary"),
        {
            "email": CANARY_EMAIL,
            "first_name": CANARY_NAME,
            "last_name": "Vogel",
            "newsletter": True,
            "partner_data_sharing": False,
        },
    )
    assert status == 201
    tradein.api("GET", "/members/me", tradein.auth("m-canary"))
    participant = {
        **PARTICIPANT,
        "email": CANARY_EMAIL,
        "iban": CANARY_IBAN,
        "birth_date": CANARY_BIRTH,
        "phone": CANARY_PHONE,
        "last_name": CANARY_NAME,
    }
    number = tradein.claim_for("R-CANARY", participant=participant)
    tradein.upload(number)
    tradein.bo("POST", f"/backoffice/claims/{number}/device-received", {"received_on": "2017-09-12"})
    tradein.bo("POST", f"/backoffice/claims/{number}/inspection", {"outcome": "approved"})
    tradein.bo("GET", f"/backoffice/claims/{number}")

    logged = capfd.readouterr().out + everything_at_debug.text()
    assert number in everything_at_debug.lines.getvalue()  # the JSON lines were written, with ids
    leaked = [c for c in (CANARY_EMAIL, CANARY_IBAN, CANARY_BIRTH, CANARY_PHONE, CANARY_NAME) if c in logged]
    assert leaked == []


@pytest.mark.rule("T15")
def test_exceptions_naming_a_recipient_or_iban_are_logged_scrubbed(everything_at_debug, capfd):
    try:
        raise RuntimeError(f"MessageRejected: Illegal address <{CANARY_EMAIL}> for payout to {CANARY_IBAN}")
    except RuntimeError:
        logger.exception("e-mail failed for %s", CANARY_EMAIL, extra={"claim_number": "AB12CD34"})
    logging.getLogger(logger.name).error("Caught exception for %s", "NL02 ABNA 0123 4567 89")  # Chalice's app.log
    out = everything_at_debug.lines.getvalue()
    logged = capfd.readouterr().out + everything_at_debug.text()
    assert "AB12CD34" in out and "MessageRejected" in out
    assert [c for c in (CANARY_EMAIL, CANARY_IBAN, "NL02 ABNA 0123 4567 89") if c in logged] == []
