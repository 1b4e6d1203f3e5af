"""docs/runbook.md's requests, as written there, through the Chalice test client.

Every `curl` line after a `# tested: <what>` comment is parsed (shell quoting included), its
variables filled from the situation the test builds, and sent; the token comes from the command
the runbook gives (scripts/mint_token.py).
"""

from __future__ import annotations

import io
import json
import re
import runpy
import shlex
import sys
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from chalicelib.loyalty import member_store
from tests.conftest import call
from tests.integration.tradein.helpers import claim, other_address

ROOT = Path(__file__).resolve().parents[3]
RUNBOOK = ROOT / "docs" / "runbook.md"
EMAIL = "jan@example.com"


def _runbook_requests() -> dict[str, str]:
    """`what` -> the curl command that follows `# tested: what` in the runbook's sh blocks."""
    found: dict[str, str] = {}
    for block in re.findall(r"```sh\n(.*?)```", RUNBOOK.read_text(), flags=re.S):
        lines = block.splitlines()
        for i, line in enumerate(lines):
            if line.startswith("# tested: "):
                found[line.removeprefix("# tested: ").strip()] = lines[i + 1]
    return found


def _token() -> str:
    """TOKEN=$(python scripts/mint_token.py ops-1 backoffice), as the runbook says; run in this
    process so that it is minted at the test's (travelled) time."""
    out = io.StringIO()
    with mock.patch.object(sys, "argv", ["mint_token.py", "ops-1", "backoffice"]), redirect_stdout(out):
        runpy.run_path(str(ROOT / "scripts" / "mint_token.py"), run_name="__main__")
    return out.getvalue().strip()


class Runbook:
    def __init__(self, client: Any) -> None:
        self.client = client
        self.requests = _runbook_requests()
        self.variables = {"API": ""}

    def run(self, what: str, **variables: str) -> tuple[int, Any]:
        command = self.requests[what]
        for name, value in {"TOKEN": _token(), **self.variables, **variables}.items():
            command = command.replace(f"${name}", value)
        assert "$" not in command, f"{what}: a variable the test did not fill: {command}"
        words = shlex.split(command)
        assert words[0] == "curl"
        method, headers, body, url = "GET", {}, None, None
        rest = iter(words[1:])
        for word in rest:
            if word == "-X":
                method = next(rest)
            elif word == "-H":
                name, _, value = next(rest).partition(": ")
                headers[name] = value
            elif word == "-d":
                body = next(rest).encode()
            elif word == "-s":
                continue
            else:
                url = word
        assert url is not None and url.startswith("/"), command
        return call(self.client, method, url, headers, body)


@pytest.fixture
def runbook(client: Any) -> Runbook:
    return Runbook(client)


def test_every_request_the_runbook_marks_tested_is_run_here() -> None:
    here = Path(__file__).read_text()
    for what in _runbook_requests():
        assert f'"{what}"' in here, f"runbook request not exercised: {what}"


def test_rerun_a_night_and_follow_it(runbook, travel, drain):
    travel("2017-09-10T09:00")
    status, started = runbook.run("rerun a night")
    assert status == 202, started
    assert (status, started["job"], started["as_of"], started["status"]) == (
        202,
        "nightly_loyalty",
        "2017-09-09",
        "running",
    )
    drain()
    status, run = runbook.run("follow the run", RUN_ID=started["run_id"])
    assert (status, run["status"], run["units"]["outstanding"]) == (200, "done", 0)
    status, recent = runbook.run("recent runs")
    assert status == 200 and recent["items"][0]["run_id"] == started["run_id"]


def test_reconciliation_findings_and_liability_of_a_night(runbook, api, auth, travel, drain):
    travel("2017-08-11T09:00")
    assert runbook.run("the liability of a night")[0] == 404  # the night of 2017-08-11 has not run
    for job in ("nightly_loyalty", "nightly_tradein"):  # the liability's parts: ledger, coupons; claims
        status, _ = api("POST", f"/backoffice/jobs/{job}/runs", auth("bo-1", "backoffice"), {})
        assert status == 202
    drain()
    status, page = runbook.run("what the night found")
    assert (status, page) == (200, {"items": [], "next_cursor": None})
    status, report = runbook.run("the liability of a night")
    assert (status, report["date"], report["complete"], report["points"]["outstanding"]) == (200, "2017-08-11", True, 0)


def test_find_and_merge_two_accounts(runbook, api, auth, travel, monkeypatch):
    monkeypatch.setattr("chalicelib.coupons.service.transfer_coupons", lambda s, t: [])
    travel("2017-08-10T12:00")
    for member_id, email in (("m-old", EMAIL), ("m-new", "jan.new@example.com")):
        body = {
            "email": email,
            "first_name": "Jan",
            "last_name": "Smit",
            "newsletter": False,
            "partner_data_sharing": False,
        }
        assert api("POST", "/members", auth(member_id), body)[0] == 201
    status, merged = runbook.run("merge source into target", TARGET_ID="m-new", SOURCE_ID="m-old")
    assert status == 200 and merged["lots_moved"] == 1
    assert runbook.run("merge source into target", TARGET_ID="m-new", SOURCE_ID="m-old")[0] == 200  # safe again
    assert member_store.get_member("m-new").balance.available == 500


@pytest.mark.rule("T11")
def test_where_is_my_money_and_a_failed_batch(runbook, tradein, travel):
    number = tradein.claim_for("R-1", participant={"email": EMAIL, "address": other_address(0)})
    tradein.upload(number)
    travel("2017-09-18T10:00")
    tradein.bo("POST", f"/backoffice/claims/{number}/device-received", {"received_on": "2017-09-18"})
    assert tradein.bo("POST", f"/backoffice/claims/{number}/inspection", {"outcome": "approved"})[0] == 200
    travel("2017-09-19T02:00")
    [batch] = tradein.nightly("2017-09-19")["payout_batches"]

    status, claims = runbook.run("find the claim by e-mail (or claim number, or receipt id)")
    assert status == 200 and [c["claim_number"] for c in claims["items"]] == [number]
    status, shown = runbook.run("the claim with its timeline, deadlines and payout", CLAIM_NUMBER=number)
    assert (status, shown["status"]) == (200, "payout_scheduled")
    assert EMAIL not in json.dumps(shown)  # masked for the handler

    status, payouts = runbook.run("the batches with their files")
    assert status == 200 and [b["batch_id"] for b in payouts["items"]] == [batch]
    status, failed = runbook.run("report a batch failed", BATCH_ID=batch)
    assert (status, failed["status"]) == (200, "failed")
    assert runbook.run("report a batch failed", BATCH_ID=batch)[0] == 200  # the same call again
    assert claim(number).status == "approved"  # back into the next night's batch
