"""T15 at every log level: canary personal data through a member and a claim, logged at DEBUG."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest

from chalicelib.observability import logger
from tests.integration.tradein.helpers import PARTICIPANT, receipt_body, tradein  # noqa: F401 - a fixture

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


# The whole flow's canaries, each in the spellings a log line or an answer could carry.
CANARY_STREET = "Kanariestraat"
CANARY_HOLDER = "K. Vogelzang-Kanarie"
CANARY_POSTCODE = "9999 ZZ"
CANARIES = {
    "e-mail": (CANARY_EMAIL, CANARY_EMAIL.upper()),
    "iban": (CANARY_IBAN, "NL02 ABNA 0123 4567 89"),
    "birth date": (CANARY_BIRTH, "14-03-1971", "14/03/1971"),
    "phone": (CANARY_PHONE, "06-87654321", "+31687654321"),
    "name": (CANARY_NAME, "Vogelzang"),
    "account holder": (CANARY_HOLDER,),
    "street": (CANARY_STREET,),
    "postcode": (CANARY_POSTCODE, "9999ZZ"),
}
CANARY_ADDRESS = {"street": CANARY_STREET, "house_number": 7, "house_number_suffix": None,
                  "postcode": CANARY_POSTCODE, "city": "Amsterdam", "country": "NL"}  # fmt: skip


def canaries_in(text: str) -> list[str]:
    return [kind for kind, spellings in CANARIES.items() if any(s.lower() in text.lower() for s in spellings)]


@pytest.fixture
def every_logger_at_debug(everything_at_debug):
    """Root, the service's logger and every other logger known so far at DEBUG; the libraries that
    log whole requests and items (observability.QUIET_LOGGERS) keep the WARNING the service pins
    them to, which is what the service promises under POWERTOOLS_LOG_LEVEL=DEBUG."""
    from chalicelib.observability import QUIET_LOGGERS

    pinned = [name for name in logging.root.manager.loggerDict if name.split(".")[0] in QUIET_LOGGERS]
    others = [name for name in logging.root.manager.loggerDict if name not in pinned and name.split(".")[0] != "moto"]
    previous = {name: logging.getLogger(name).level for name in [*others, "moto"]}
    for name in others:
        logging.getLogger(name).setLevel(logging.DEBUG)
    logging.getLogger("moto").setLevel(logging.WARNING)  # moto plays AWS: its logs are not the Lambda's
    assert all(logging.getLogger(name).getEffectiveLevel() >= logging.WARNING for name in pinned)
    yield everything_at_debug
    for name, level in previous.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def metrics_on(monkeypatch):
    """Powertools metrics as deployed: EMF lines on stdout (the test stage disables them)."""
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf import cloudwatch

    monkeypatch.setattr(cloudwatch, "is_metrics_disabled", lambda: False)


@pytest.mark.rule("T15")
def test_a_full_member_and_claim_flow_leaks_no_canary(
    tradein,  # noqa: F811
    run_job,
    travel,
    every_logger_at_debug,
    metrics_on,
    capfd,
):
    api, auth, bo = tradein.api, tradein.auth, tradein.bo
    member = auth("m-canary")
    pos = auth("pos-1", "pos")
    masked: list[tuple[str, Any]] = []  # answers the contract masks (T15): no canary in them

    profile = {"email": CANARY_EMAIL, "first_name": CANARY_NAME, "last_name": "Vogelzang", "address": CANARY_ADDRESS,
               "newsletter": True, "partner_data_sharing": False}  # fmt: skip
    assert api("POST", "/members", member, profile)[0] == 201
    assert api("PATCH", "/members/me", member, {"first_name": CANARY_NAME, "address": CANARY_ADDRESS})[0] == 200
    receipt = {**receipt_body(purchased_at="2017-09-01T12:00:00+02:00"), "member_id": "m-canary"}
    assert api("PUT", "/receipts/R-CANARY-1", pos, receipt)[0] == 201
    assert api("PUT", "/receipts/R-CANARY-2", pos, receipt_body(purchased_at="2017-09-02T12:00:00+02:00"))[0] == 201
    assert api("POST", "/members/me/receipts", {**member, "Idempotency-Key": "k-1"}, {"receipt_id": "R-CANARY-2"})[
        0
    ] in (200, 201)
    adjustment = {"adjustment_id": "a-canary", "points": 3000, "reason": "goodwill"}
    assert bo("POST", "/backoffice/members/m-canary/adjustments", adjustment)[0] == 201
    status, coupon = api("POST", "/members/me/coupons", {**member, "Idempotency-Key": "k-2"}, {"amount_cents": 2000})
    assert status == 201, coupon
    for path in ("/members/me", "/members/me/history", "/members/me/receipts", "/members/me/coupons"):
        assert api("GET", path, member)[0] == 200
    assert bo("GET", f"/backoffice/members?email={CANARY_EMAIL}")[0] == 200
    assert run_job("nightly_loyalty")["status"] == "done"

    participant = {**PARTICIPANT, "first_name": CANARY_NAME, "last_name": "Vogelzang", "email": CANARY_EMAIL,
                   "phone": CANARY_PHONE, "birth_date": CANARY_BIRTH, "address": CANARY_ADDRESS, "iban": CANARY_IBAN,
                   "account_holder": CANARY_HOLDER}  # fmt: skip
    number = tradein.claim_for("R-CANARY-CLAIM", participant=participant)
    tradein.upload(number)
    masked.append(("tracking", tradein.track(number, "9999ZZ")))
    assert bo("POST", f"/backoffice/claims/{number}/device-received", {"received_on": "2017-09-12"})[0] == 200
    assert bo("POST", f"/backoffice/claims/{number}/inspection", {"outcome": "approved"})[0] == 200
    masked += [
        ("back-office claims", bo("GET", "/backoffice/claims")),
        ("back-office claim search", bo("GET", f"/backoffice/claims?q={CANARY_EMAIL}")),
        ("back-office claim", bo("GET", f"/backoffice/claims/{number}")),
    ]
    travel("2017-09-13T02:45")
    assert run_job("nightly_tradein")["status"] == "done"  # the payout batch and its pain.001 file
    status, payouts = bo("GET", "/backoffice/payouts")
    assert status == 200 and [b["claims"] for b in payouts["items"]] == [[number]], payouts
    masked += [("payouts", (status, payouts)), ("tracking after payout", tradein.track(number, "9999ZZ"))]
    masked.append(("back-office claim after payout", bo("GET", f"/backoffice/claims/{number}")))
    from chalicelib.observability import metrics

    metrics.flush_metrics()  # what is left of the run's metrics, as a handler's end would

    stdout = capfd.readouterr().out
    metric_lines = [line for line in stdout.splitlines() if '"_aws"' in line]
    records = every_logger_at_debug.caplog.records
    json_lines = every_logger_at_debug.lines.getvalue().splitlines()
    assert metric_lines and records and json_lines  # each channel was written to
    assert all(status == 200 and number in json.dumps(body) for _, (status, body) in masked), masked
    leaks = {
        "log": canaries_in(every_logger_at_debug.text()),
        "stdout (metrics and prints)": canaries_in(stdout),
        **{kind: canaries_in(json.dumps(body)) for kind, (_, body) in masked},
    }
    with capfd.disabled():  # the figure on the terminal, also without -s
        print(
            f"\nT15 canaries: {len(records)} log records ({sum(r.name != logger.name for r in records)} of "
            f"libraries), {len(json_lines)} JSON log lines, {len(metric_lines)} EMF metric lines, "
            f"{len(stdout.splitlines())} stdout lines, {len(masked)} masked answers checked"
        )
    assert {kind: found for kind, found in leaks.items() if found} == {}


@pytest.mark.rule("T15")
def test_the_capture_sees_library_lines_and_the_pin_is_what_keeps_them_out(tradein, every_logger_at_debug):  # noqa: F811
    """The same capture, with botocore forced to DEBUG as nothing in the service would: the
    request body, canary and all, is in its lines. So the test above would see such a leak, and
    the WARNING pin (observability.quiet_libraries) is what prevents it."""
    botocore = logging.getLogger("botocore")
    level = botocore.level
    botocore.setLevel(logging.DEBUG)
    try:
        body = {"email": CANARY_EMAIL, "first_name": CANARY_NAME, "last_name": "Vogelzang", "newsletter": True,
                "partner_data_sharing": False}  # fmt: skip
        assert tradein.api("POST", "/members", tradein.auth("m-canary"), body)[0] == 201
    finally:
        botocore.setLevel(level)
    library = [r for r in every_logger_at_debug.caplog.records if r.name.startswith("botocore")]
    assert library and "e-mail" in canaries_in("".join(r.getMessage() for r in library))
