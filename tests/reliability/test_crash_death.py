"""Crash and resume with real process death: the action runs in a forked child against moto's
server and the child dies (`os._exit`) before or after its k-th AWS call, for every k; the parent
then retries (a client's retry, SQS's redelivery, EventBridge's redelivered event) and the state
must equal an uninterrupted run's: balances, lots, history, coupons, claims, e-mails sent, job
run records. The paths test_crash_resume.py covers with exceptions get the two deaths here; the
paths it does not cover (merge, adjustment, both nightly jobs, the fan-out worker) get all four
forms. Each case runs on its own members or claims; the nightly cases on a fresh moto."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from chalice.test import Client

from tests.conftest import call
from tests.integration.tradein.helpers import CAMPAIGN, IN_WINDOW, Driver, sent_messages
from tests.reliability.faults import DEATHS, FORMS, KILLED, die_in_child, install
from tests.reliability.test_crash_resume import BO, LOYALTY, POS, TRADEIN, Claims, Loyalty, _diff, product, scrub

OK = (200, 201, 202)


@dataclass
class Stack:
    """The app in process (Chalice's test client) over moto's server."""

    client: Client
    url: str
    auth: Callable[..., dict[str, str]]
    keys: dict[str, list[str]] = field(default_factory=dict)

    def api(self, method: str, path: str, headers: dict[str, str] | None = None, body: Any = None) -> Any:
        return call(self.client, method, path, headers, body)

    def fresh(self) -> None:
        """Every table emptied and the work queue purged (the nightly cases own the whole store;
        moto's reset and a new provisioning would cost 2.6 s a case)."""
        from chalicelib.db import client as aws_client
        from chalicelib.runs import queue

        dynamodb = aws_client("dynamodb")
        if not self.keys:
            for table in dynamodb.list_tables()["TableNames"]:
                schema = dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]
                self.keys[table] = [k["AttributeName"] for k in schema]
        for table, keys in self.keys.items():
            names = {f"#k{i}": k for i, k in enumerate(keys)}
            items = dynamodb.scan(
                TableName=table, ProjectionExpression=", ".join(names), ExpressionAttributeNames=names
            )
            for item in items["Items"]:
                dynamodb.delete_item(TableName=table, Key=item)
        sqs, url = aws_client("sqs"), queue.queue_url()  # PurgeQueue: once a minute only
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
            "Messages"
        ):
            for message in messages:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def stack(moto_server: str, auth: Callable[..., dict[str, str]], monkeypatch: Any) -> Iterator[Stack]:
    # One shard of each kind: the nightly's calls stay few enough to cut at every one of them
    # (the shard loop is the same code for 1 or 24; tests/integration cover many shards).
    for name in ("MATURITY_SHARDS", "COUPON_EXPIRY_SHARDS", "RECONCILIATION_SHARDS"):
        monkeypatch.setenv(name, "1")
    install()
    with Client(__import__("app").app, stage_name="test") as client:
        yield Stack(client, moto_server, auth)


def drain(stack: Stack) -> int:
    """The fan-out worker on every message until the queue is empty (as tests/conftest.py's
    drain). Messages are received with no visibility timeout: one a dead worker held is at once
    delivered again, as SQS does once the timeout has passed."""
    from chalicelib.db import client as aws_client
    from chalicelib.runs import queue

    sqs, url, handled = aws_client("sqs"), queue.queue_url(), 0
    while True:
        answer = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=0,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )  # fmt: skip
        if not answer.get("Messages"):
            return handled
        message = answer["Messages"][0]
        event = stack.client.events.generate_sqs_event([message["Body"]], queue_name="test-nightly-work")
        event["Records"][0]["attributes"]["ApproximateReceiveCount"] = message["Attributes"]["ApproximateReceiveCount"]
        stack.client.lambda_.invoke("nightly_worker", event)
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        handled += 1


def exercise(
    figure: Any,
    name: str,
    prepare: Callable[[int], None],
    act: Callable[[int], int],
    state: Callable[[int], Any],
    forms: tuple[str, ...] = DEATHS,
    settle: Callable[[], Any] = lambda: None,
    fresh: Callable[[], None] | None = None,
    retry: Callable[[int], int] | None = None,
    stride: int = 1,
) -> None:
    """Reference run on case 0, then every k in every form (every `stride`-th k and the last
    one for the nightly's 70-140 calls: the suite's time budget), each followed by one retry.
    Dying before call k leaves AWS as dying after call k-1 does (the process does nothing
    outside between the two), so `die-before` is cut at the first k only: every distinct state
    of AWS a death can leave is exercised once.

    Exceptions (`before`, `after`) are raised in this process, deaths in a forked child."""
    faults = install()
    retry = retry or act
    if fresh:
        fresh()
    prepare(0)
    mails = len(sent_messages())
    faults.arm(10**9)
    assert act(0) in OK
    calls = list(faults.calls)
    faults.arm(None)
    settle()
    reference, reference_mails = state(0), len(sent_messages()) - mails
    assert calls, "the action made no AWS call"
    cases, mismatches, n, window, undercounted = {f: 0 for f in forms}, [], 0, 0, 0
    cut_at = sorted({*range(1, len(calls) + 1, stride), len(calls)})
    for k in cut_at:
        for form in forms:
            if form == "die-before" and k != cut_at[0]:
                continue  # the same state as dying after call k-1: nothing reaches AWS in between
            n += 1
            if fresh:
                fresh()
            prepare(n)
            before = len(sent_messages())
            if form in DEATHS:
                first = die_in_child(lambda n=n: act(n), k, form)  # type: ignore[misc]
                died = first == KILLED
            else:
                faults.arm(k, form)
                first = act(n)
                died = faults.fired
                faults.arm(None)
            retried = retry(n)
            settle()
            got, mails_sent = state(n), len(sent_messages()) - before
            cases[form] += 1
            if (calls[k - 1], form) in {("ses.SendEmail", "after"), ("ses.SendEmail", "die-after")} or (
                k > 1 and (calls[k - 2], form) == ("ses.SendEmail", "die-before")
            ):
                # The one window docs/tradein.md names: SES took the e-mail and the sender never
                # learnt it (answer lost), or died before marking it sent (the next call's
                # death): the sender that replaces it after the lease sends it again.
                window += mails_sent == reference_mails + 1
                mails_sent = min(mails_sent, reference_mails)
                got = {**got, "mails": reference.get("mails")} if isinstance(got, dict) else got
            if isinstance(got, dict) and "counts" in got:
                # A finding, counted, not a failure: a worker that died after doing items and
                # before recording its segment leaves them uncounted in the run's summary (the
                # redelivery finds them done). Fewer, never more: nothing is counted twice.
                lower = {key: (want, got["counts"][key]) for key, want in reference["counts"].items()
                         if got["counts"][key] != want}  # fmt: skip
                if all(have < want for want, have in lower.values()):
                    undercounted += bool(lower)
                    got = {**got, "counts": reference["counts"]}
            if not died or retried not in OK or got != reference or mails_sent != reference_mails:
                mismatches.append({"k": k, "call": calls[k - 1], "form": form, "first": first, "died": died,
                                   "retry": retried, "mails": mails_sent, "diff": _diff(reference, got)})  # fmt: skip
    figure(
        f"crash/death {name}",
        aws_calls=len(calls),
        cut_at=len(cut_at),
        **{f"cases_{f.replace('-', '_')}": c for f, c in cases.items()},
        mismatches=len(mismatches),
        known_window_duplicates=window,
        **({"run_summary_undercounted": undercounted} if isinstance(reference, dict) and "counts" in reference else {}),
    )
    figure("crash/death injection points", **{name.replace(" ", "_"): "|".join(calls)})
    assert not mismatches, json.dumps(mismatches, indent=1, default=str)


# --- member paths --------------------------------------------------------------------------------


def join_source(stack: Stack, n: int) -> None:
    """c{n}x: the account merged into c{n} (scrub() turns its id into Nx)."""
    body = {"email": f"c{n}x@example.com", "first_name": "Ann", "last_name": "Smit", "newsletter": False,
            "partner_data_sharing": False}  # fmt: skip
    assert stack.api("POST", "/members", stack.auth(f"c{n}x"), body)[0] == 201
    receipt = {"channel": "store", "purchased_at": "2017-07-02T12:00:00+02:00", "member_id": f"c{n}x",
               "lines": [product(60_000)]}  # fmt: skip
    assert stack.api("PUT", f"/receipts/earn-c{n}x", stack.auth(*POS), receipt)[0] == 201
    seed(stack, f"c{n}x")


def seed(stack: Stack, member: str) -> None:
    """Points available at once (an adjustment), instead of a receipt matured by a nightly run."""
    body = {"adjustment_id": f"seed-{member}", "points": 5000, "reason": "seed"}
    assert stack.api("POST", f"/backoffice/members/{member}/adjustments", stack.auth(*BO), body)[0] == 201


class Members(Loyalty):
    def __init__(self, stack: Stack) -> None:
        super().__init__(stack.api, stack.auth)
        self.stack = stack

    def source_coupon(self, n: int) -> int:
        headers = {**self.auth(f"c{n}x"), "Idempotency-Key": f"conv-c{n}x"}
        return int(self.api("POST", "/members/me/coupons", headers, {"amount_cents": 2000})[0])

    def merge(self, n: int) -> int:
        body = {"source_member_id": f"c{n}x"}
        return int(self.api("POST", f"/backoffice/members/c{n}/merge", self.auth(*BO), body)[0])

    def adjust(self, n: int) -> int:
        body = {"adjustment_id": f"adj-c{n}", "points": -1500, "reason": "correction of a double receipt"}
        return int(self.api("POST", f"/backoffice/members/c{n}/adjustments", self.auth(*BO), body)[0])

    def both(self, n: int) -> Any:
        source = self.auth(f"c{n}x")
        views = {p: self.api("GET", p, source) for p in ("/members/me", "/members/me/coupons")}
        return {"target": self.state(n), "source": scrub(views, n)}


MEMBER_PATHS: dict[str, tuple[list[str], str, str, tuple[str, ...]]] = {
    # path: (steps before, the action, its state, forms); LOYALTY's paths only die here
    **{name: (steps, action, "state", DEATHS) for name, (steps, action) in LOYALTY.items()},
    "merge": (["convert", "source_coupon"], "merge", "both", FORMS + DEATHS),
    "adjustment": ([], "adjust", "state", FORMS + DEATHS),
}


@pytest.mark.parametrize("name", list(MEMBER_PATHS))
def test_member_write_resumes_after_death_at_every_call(name, stack, travel, figure):
    travel("2017-08-10T14:00")
    flows = Members(stack)
    steps, action, state, forms = MEMBER_PATHS[name]

    def prepare(n: int) -> None:
        flows.join(n, euros=1000)
        seed(stack, f"c{n}")
        if name == "merge":
            join_source(stack, n)
        for step in steps:
            assert getattr(flows, step)(n) in OK, step

    stride = int(os.environ.get("RELIABILITY_NIGHTLY_STRIDE", "0")) or (2 if name == "merge" else 1)  # time budget
    exercise(figure, name, prepare, getattr(flows, action), getattr(flows, state), forms, stride=stride)


# --- trade-in paths ------------------------------------------------------------------------------


@pytest.fixture
def claims(stack: Stack, travel: Any) -> Claims:
    travel(IN_WINDOW)
    driver = Driver(stack.client, stack.api, stack.auth)
    assert driver.bo("PUT", f"/backoffice/campaigns/{CAMPAIGN}", {})[0] == 201
    return Claims(driver)


@pytest.mark.parametrize("name", list(TRADEIN))
def test_tradein_write_resumes_after_death_at_every_call(name, claims, travel, figure):
    steps, action = TRADEIN[name]

    def prepare(n: int) -> None:
        for step in ["receipt", *steps]:
            assert getattr(claims, step)(n) in OK, step

    def next_run() -> None:
        """A sender that died holding an e-mail is replaced once its lease has run out
        (docs/tradein.md): the next nightly run, later than that, sends what is still owed."""
        from chalicelib import clock
        from chalicelib.config import settings

        travel(clock.now() + timedelta(seconds=settings().tradein_email_lease_seconds + 60))
        claims.nightly()

    exercise(figure, name, prepare, getattr(claims, action), claims.state, settle=next_run)


# --- the nightly jobs: coordinator (the schedule's Lambda), units and the fan-out worker ---------


def timeless(value: Any) -> Any:
    return json.loads(re.sub(r'"(\w+_at|duration_ms)": ("[^"]*"|\d+)', r'"\1": "T"', json.dumps(value)))


class Nights:
    """One night of a job on a store of its own (emptied before each case)."""

    def __init__(self, stack: Stack, job: str, as_of: str) -> None:
        self.stack, self.job, self.as_of = stack, job, as_of

    def schedule(self) -> int:
        """The schedule's event, as EventBridge delivers it (again, after a crash: same id)."""
        event = self.stack.client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[], region="eu-west-1"
        )
        event.update(id=f"night-{self.as_of}", time=f"{self.as_of}T01:30:00Z")
        answer = self.stack.client.lambda_.invoke(self.job, event).payload
        return 200 if answer.get("run_id") else 500

    def night(self, n: int) -> int:
        """The coordinator, then the workers on everything it enqueued (500: it raised)."""
        try:
            status = self.schedule()
            drain(self.stack)
        except Exception:
            return 500
        return status

    def work(self, n: int) -> int:
        """The workers only, on a run the coordinator started."""
        try:
            drain(self.stack)
        except Exception:
            return 500
        return 200

    def runs(self) -> Any:
        status, body = self.stack.api("GET", f"/backoffice/jobs/{self.job}/runs", self.stack.auth(*BO))
        assert status == 200, body
        return timeless(body["items"])


MEMBERS = ("a", "b", "c")


def loyalty_night(stack: Stack, travel: Any) -> None:
    """What one loyalty night has to do: event points of a year ago expire (L7), purchase points
    of 40 days ago mature (L6) for three members of the one shard."""
    travel("2016-08-01T10:00")
    for member in MEMBERS:
        body = {"email": f"{member}@example.com", "first_name": "Ann", "last_name": "Smit", "newsletter": False,
                "partner_data_sharing": False}  # fmt: skip
        assert stack.api("POST", "/members", stack.auth(member), body)[0] == 201
        seed(stack, member)
    travel("2017-08-10T10:00")
    for i, member in enumerate(MEMBERS):
        receipt = {"channel": "store", "purchased_at": f"2017-07-0{i + 1}T12:00:00+02:00", "member_id": member,
                   "lines": [product(40_000 + 10_000 * i)]}  # fmt: skip
        assert stack.api("PUT", f"/receipts/earn-{member}", stack.auth(*POS), receipt)[0] == 201


def loyalty_state(stack: Stack, nights: Nights) -> Any:
    views = {
        member: {p: stack.api("GET", p, stack.auth(member)) for p in
                 ("/members/me", "/members/me/coupons", "/members/me/receipts", "/members/me/history?limit=100")}
        for member in MEMBERS
    }  # fmt: skip
    runs = nights.runs()
    counts = [run.pop("summary", {}) for run in runs]
    return {"members": timeless(scrub(views, -1)), "runs": runs, "mails": [], "counts": counts[0] if counts else {}}


@pytest.mark.parametrize("path", ["nightly loyalty", "fan-out worker"])
def test_a_loyalty_night_resumes_after_a_fault_at_every_call(path, stack, travel, figure, monkeypatch):
    nights = Nights(stack, "nightly_loyalty", "2017-08-10")
    if path == "fan-out worker":
        # One lot a page and one page a segment: the worker hands its unit on after each page,
        # so the segments, cursors and the run's outstanding count are all on the cut.
        monkeypatch.setenv("NIGHTLY_PAGE_SIZE", "1")
        monkeypatch.setenv("NIGHTLY_TIME_MARGIN_SECONDS", str(10**6))

    def prepare(n: int) -> None:
        loyalty_night(stack, travel)
        if path == "fan-out worker":
            assert nights.schedule() == 200

    act = nights.night if path == "nightly loyalty" else nights.work
    state = lambda n: loyalty_state(stack, nights)  # noqa: E731
    # 71 and 140 calls at ~6 s a case on moto's server: every 14th / 35th k and the last one by
    # default (the suite's time budget); RELIABILITY_NIGHTLY_STRIDE=1 cuts at every one.
    stride = int(os.environ.get("RELIABILITY_NIGHTLY_STRIDE", "0")) or (14 if path == "nightly loyalty" else 35)
    exercise(figure, path, prepare, act, state, DEATHS, fresh=stack.fresh, stride=stride)


def test_a_tradein_night_resumes_after_a_fault_at_every_call(stack, travel, figure):
    """The trade-in night on an approved claim (its payout batch, e-mails) and one waiting for
    its device; each case on an emptied store, so the same claim numbers come back."""
    nights = Nights(stack, "nightly_tradein", "2017-10-20")
    driver = Driver(stack.client, stack.api, stack.auth)
    flows = Claims(driver)

    def prepare(n: int) -> None:
        travel(IN_WINDOW)
        assert driver.bo("PUT", f"/backoffice/campaigns/{CAMPAIGN}", {})[0] == 201
        for step in ["receipt", "register", "put_proof", "deliver", "received", "inspect"]:
            assert getattr(flows, step)(1) in OK, step
        for step in ["receipt", "register", "put_proof", "deliver"]:
            assert getattr(flows, step)(2) in OK, step
        travel("2017-10-20T03:00")

    def state(n: int) -> Any:
        runs = nights.runs()
        counts = [run.pop("summary", {}) for run in runs][-1:]  # the cut-off night's
        claims = timeless({"c1": flows.state(1), "c2": flows.state(2)})
        for claim in claims.values():  # SES keeps the earlier cases' e-mails: this case's claims only
            claim["mails"] = [subject for subject in claim["mails"] if "(claim X)" in subject]
        return {"claims": claims, "runs": scrub(runs, -1), "counts": scrub(counts[0], -1) if counts else {}}

    def next_night() -> None:
        """What a cut-off night left owed (an e-mail of a move it made) the next night sends."""
        travel("2017-10-21T03:00")
        assert Nights(stack, "nightly_tradein", "2017-10-21").night(0) == 200

    stride = int(os.environ.get("RELIABILITY_NIGHTLY_STRIDE", "0")) or 6
    exercise(figure, "nightly trade-in", prepare, nights.night, state, DEATHS, fresh=stack.fresh, stride=stride,
             settle=next_night)  # fmt: skip
