"""The local stack behind `make run`: everything the deployed product has, on 127.0.0.1.

1. moto's server (the AWS stand-in) on MOTO_PORT (default 5001), in this process;
2. provisioning of every table, the proofs bucket (with its `proofs/` -> SQS notification) and
   the SES sender, with the `dev` stage's environment from .chalice/config.json;
3. the trade-in campaigns seeded for today;
4. `chalice local --stage dev` on PORT (default 8000), a child process in its own process group;
5. a run of each nightly job, at start and every LOCAL_NIGHTLY_SECONDS (default 300);
6. the local event bridge: polls the upload queue and hands each S3 notification to the app's
   `on_proof_uploaded`, as the bucket notification does in AWS; and the work bridge: drains the
   nightly work queue into the app's `nightly_worker`, as the SQS event source does in AWS; and
   the events bridge: reads the ledger, coupon and claim tables' streams into the app's
   `publish_events` (scripts/stream_bridge.py), whose events reach moto's bus; a rule sends them
   to the queue `<prefix>events-tap`, and each is logged (`event coupon.issued ...`);
7. the web pages (web/) on WEB_PORT (default 8080), with their config pointing at the API, and
   PUBLIC_WEB_URL set for the app so that e-mails link to them (scripts/web_server.py);
8. a banner with the URLs, dev tokens and a few commands to try;
9. a clean stop on Ctrl-C or SIGTERM (the chalice process group is signalled and reaped).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
JOIN = (
    """'{"email": "demo@example.com", "first_name": "Demo", "last_name": "Member", """
    """"newsletter": false, "partner_data_sharing": false}'"""
)
MAX_DELIVERIES = 5  # an upload that fails this often is dropped from the queue (and logged)
LOCAL_WORKER_SECONDS = 90.0  # within the local work queue's visibility timeout (provision.py)

log = logging.getLogger("local-stack")


def stage_environment(stage: str = "dev") -> dict[str, str]:
    """The environment variables `chalice local --stage <stage>` gives the app."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = dict(config.get("environment_variables", {}))
    env.update(config["stages"][stage].get("environment_variables", {}))
    return env


def local_environment(moto_url: str) -> dict[str, str]:
    """What this process and its children need to reach the local AWS stand-in."""
    return {
        **stage_environment("dev"),
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "eu-west-1"),
    }


class Repeater(threading.Thread):
    """Runs `work` now and then every `interval` seconds until `stop` is set; logs, never dies."""

    def __init__(self, name: str, work: Callable[[], object], interval: float, stop: threading.Event) -> None:
        super().__init__(name=name, daemon=True)
        self.work = work
        self.interval = interval
        self.stop = stop

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.work()
            except Exception:  # a failing job or delivery must not take the stack down
                log.exception("%s failed", self.name)
            self.stop.wait(self.interval)


def run_nightly_jobs() -> None:
    """Start a run of every nightly job for today's Amsterdam date, as the schedules do in AWS;
    the work bridge below drains their units from the queue."""
    from chalicelib import clock, nightly
    from chalicelib.runs import service as runs

    today = clock.today()
    for name in nightly.JOBS:
        run = runs.start(name, today, trigger="schedule", event_id=f"local-{time.time_ns()}")
        log.info("nightly %s as of %s: run %s %s", name, today.isoformat(), run["run_id"], run["status"])


class AtomicDynamoDB:
    """WSGI wrapper for moto's server: one DynamoDB request at a time, as DynamoDB's requests are
    atomic. moto's backends are not thread-safe (TransactWriteItems deep-copies a table while
    another request changes it, a 500 under concurrent clients); other services pass through, so
    SQS long polls do not hold up the tables."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return self._app(environ, start_response)
        with self._lock:
            return list(self._app(environ, start_response))


class LocalMotoServer:
    """moto's server in a thread, its DynamoDB requests serialised (AtomicDynamoDB)."""

    def __init__(self, host: str, port: int) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        app = AtomicDynamoDB(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


class LocalContext:
    """What the handlers ask of Lambda's context: what Powertools' `inject_lambda_context` logs
    and the time left (the deployed timeout), which the worker asks."""

    def __init__(self, function_name: str, seconds: float = 900.0) -> None:
        self.deadline = time.monotonic() + seconds
        self.function_name = function_name
        self.memory_limit_in_mb = 1024
        self.invoked_function_arn = f"arn:aws:lambda:eu-west-1:000000000000:function:{function_name}"
        self.aws_request_id = f"local-{time.time_ns()}"

    def get_remaining_time_in_millis(self) -> int:
        return int((self.deadline - time.monotonic()) * 1000)


def deliver_units(queue_url: str, handler: Callable[[dict[str, Any], Any], Any]) -> int:
    """One poll of the nightly work queue: each message goes to the worker in Lambda's SQS event
    shape, as the event source mapping does in AWS; returns how many were handled."""
    from chalicelib.db import client

    sqs = client("sqs")
    answer = sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=1, MessageSystemAttributeNames=["All"]
    )
    handled = 0
    for message in answer.get("Messages", []):
        record = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {},
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_url,
        }
        try:
            handler({"Records": [record]}, LocalContext("nightly_worker", LOCAL_WORKER_SECONDS))
        except Exception:  # SQS delivers it again after its visibility timeout
            log.exception("work bridge: a unit failed (it will be delivered again)")
            continue
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        handled += 1
    return handled


def deliver_uploads(queue_url: str, handler: Callable[[dict[str, Any], Any], Any]) -> int:
    """One poll of the upload queue: each S3 notification goes to `handler`; returns how many."""
    from chalicelib.db import client

    sqs = client("sqs")
    answer = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=1,
        VisibilityTimeout=30,
        MessageSystemAttributeNames=["ApproximateReceiveCount"],
    )
    delivered = 0
    for message in answer.get("Messages", []):
        event = json.loads(message["Body"])
        receipt = message["ReceiptHandle"]
        if event.get("Event") == "s3:TestEvent" or "Records" not in event:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=receipt)
            continue
        keys = [unquote_plus(record["s3"]["object"]["key"]) for record in event["Records"]]
        attempts = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        try:
            result = handler(event, LocalContext("on_proof_uploaded"))
        except Exception:
            log.exception("bridge: on_proof_uploaded failed for %s (attempt %d)", keys, attempts)
            if attempts >= MAX_DELIVERIES:
                log.error("bridge: dropping %s after %d attempts", keys, attempts)
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=receipt)
            continue
        log.info("bridge: delivered %s to on_proof_uploaded -> %s", keys, json.dumps(result, default=str))
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=receipt)
        delivered += 1
    return delivered


def events_tap() -> str:
    """A rule on the local bus sending every domain event to a queue, so the stack can show them."""
    from chalicelib.config import settings
    from chalicelib.db import client
    from chalicelib.outbound.publisher import SOURCE

    sqs, events, bus = client("sqs"), client("events"), settings().event_bus
    url = str(sqs.create_queue(QueueName=f"{settings().table_prefix}events-tap")["QueueUrl"])
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="local-tap", EventBusName=bus, EventPattern=json.dumps({"source": [SOURCE]}))
    events.put_targets(Rule="local-tap", EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn}])
    return url


def publish_and_show_events(bridge: Any, tap_url: str) -> int:
    """One poll of the published streams into `publish_events`, then log what reached the bus."""
    from chalicelib.db import client

    bridge.poll()
    sqs = client("sqs")
    shown = 0
    for message in sqs.receive_message(QueueUrl=tap_url, MaxNumberOfMessages=10).get("Messages", []):
        detail = json.loads(message["Body"])["detail"]
        log.info("event %s %s %s", detail["type"], detail["id"], json.dumps(detail["subject"], sort_keys=True))
        sqs.delete_message(QueueUrl=tap_url, ReceiptHandle=message["ReceiptHandle"])
        shown += 1
    return shown


def _die_with_parent() -> None:
    """In the chalice child (Linux): get SIGINT if this script dies without cleaning up."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGINT)  # PR_SET_PDEATHSIG


def _load_prctl() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl()


def start_chalice(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`chalice local --stage dev` in its own process group, so it can be stopped as a whole."""
    chalice = shutil.which("chalice", path=str(Path(sys.executable).parent)) or shutil.which("chalice")
    if chalice is None:
        raise SystemExit("chalice is not installed: run `make install`")
    command = [chalice, "local", "--stage", "dev", "--host", HOST, "--port", str(port)]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **env},
        start_new_session=True,
        preexec_fn=_die_with_parent,  # only a prctl call between fork and exec
    )


def stop_process_group(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGINT (what chalice's reloader handles), then SIGTERM, then SIGKILL, to the whole group."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            break
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            continue
    # the reloader's worker shares the group: make sure nothing of it survives
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def wait_for_http(url: str, timeout: float, alive: Callable[[], bool]) -> bool:
    """True once `url` answers 200; False on timeout or when `alive()` turns False."""
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.2)
    return False


def port_is_free(port: int) -> bool:
    """Nothing listens on `port`. SO_REUSEADDR as the servers themselves bind, so connections of
    the last run still in TIME_WAIT (a minute after Ctrl-C) do not count as "in use"."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def project_python() -> str:
    """The Python running this script (the project's venv under `make run`), as a newcomer types it."""
    python = Path(sys.executable)
    try:
        return str(python.relative_to(ROOT))
    except ValueError:
        return str(python)


def banner(api_url: str, moto_url: str, campaign_ids: list[str], web_url: str = "") -> str:
    """What a newcomer needs to start: URLs, dev tokens and three commands to try."""
    from chalicelib.auth import mint_dev_token

    member = mint_dev_token("demo-member", ["member"])
    pos = mint_dev_token("demo-pos", ["pos"])
    backoffice = mint_dev_token("demo-backoffice", ["backoffice"])
    return "\n".join(
        [
            "",
            "Local stack is up (Ctrl-C stops everything).",
            f"  API            {api_url}",
            f"  AWS (moto)     {moto_url}   (dashboard: {moto_url}/moto-api/)",
            *([f"  web pages      {web_url}/  (inruil, volg, mijn, backoffice, api)"] if web_url else []),
            f"  campaigns      {', '.join(campaign_ids) or '-'}",
            f"Dev tokens (valid 24 h; mint more with `{project_python()} scripts/mint_token.py SUBJECT [ROLE ...]`):",
            f"  member      demo-member      {member}",
            f"  pos         demo-pos         {pos}",
            f"  backoffice  demo-backoffice  {backoffice}",
            "Try this:",
            f"  curl {api_url}/health",
            f"  curl {api_url}/tradein/campaigns",
            f'  curl -H "Authorization: Bearer {member}" -H "Content-Type: application/json" -d {JOIN} '
            f"{api_url}/members",
            "",
        ]
    )


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s [%(name)s] %(message)s", datefmt="%H:%M:%S")
    for noisy in ("werkzeug", "botocore", "pynamodb"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    moto_port = int(os.environ.get("MOTO_PORT", "5001"))
    api_port = int(os.environ.get("PORT", "8000"))
    web_port = int(os.environ.get("WEB_PORT", "8080"))
    nightly_seconds = float(os.environ.get("LOCAL_NIGHTLY_SECONDS", "300"))
    moto_url = f"http://{HOST}:{moto_port}"
    api_url = f"http://{HOST}:{api_port}"
    web_url = f"http://{HOST}:{web_port}"

    for name, port in (("MOTO_PORT", moto_port), ("PORT", api_port), ("WEB_PORT", web_port)):
        if not port_is_free(port):
            log.error("port %d is in use: stop what holds it or set %s", port, name)
            return 1

    stop = threading.Event()

    def request_stop(signum: int, _frame: Any) -> None:
        log.info("%s received, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    # The environment must be set before chalicelib is imported: PynamoDB fixes table names then.
    env = {**local_environment(moto_url), "PUBLIC_WEB_URL": web_url}
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))

    moto = LocalMotoServer(HOST, moto_port)
    moto.start()
    chalice: subprocess.Popen[bytes] | None = None
    web: Any = None
    workers: list[Repeater] = []
    try:
        if not wait_for_http(f"{moto_url}/moto-api/data.json", 30, lambda: not stop.is_set()):
            if stop.is_set():
                return 0
            log.error("moto did not start on %s", moto_url)
            return 1
        log.info("moto server on %s", moto_url)

        from app import nightly_worker, on_proof_uploaded, publish_events
        from chalicelib import clock
        from chalicelib.provision import provision
        from chalicelib.tradein.campaigns import seed_campaigns

        provisioned = provision()
        log.info("provisioned: %d tables created, bucket %s", len(provisioned["tables_created"]), provisioned["bucket"])
        campaign_ids = list(seed_campaigns(clock.today()))
        log.info("seeded campaigns: %s", ", ".join(campaign_ids))

        chalice = started = start_chalice(api_port, env)
        if not wait_for_http(f"{api_url}/health", 90, lambda: not stop.is_set() and started.poll() is None):
            if stop.is_set():
                return 0
            log.error("chalice local did not answer on %s/health", api_url)
            return 1

        queue_url = provisioned["upload_queue"]
        workers.append(Repeater("nightly", run_nightly_jobs, nightly_seconds, stop))
        work_queue = provisioned["nightly_queue"]
        workers.append(Repeater("work", lambda: deliver_units(work_queue, nightly_worker), 0.1, stop))
        if queue_url:
            workers.append(Repeater("bridge", lambda: deliver_uploads(queue_url, on_proof_uploaded), 0.2, stop))
        from chalicelib.config import settings
        from chalicelib.outbound.mapping import PUBLISHED_TABLES
        from scripts.stream_bridge import StreamBridge

        streams = StreamBridge(
            [f"{settings().table_prefix}{t}" for t in PUBLISHED_TABLES],
            publish_events,
            context=lambda: LocalContext("publish_events"),
        )
        tap_url = events_tap()
        workers.append(Repeater("events", lambda: publish_and_show_events(streams, tap_url), 0.5, stop))
        for worker in workers:
            worker.start()
        from scripts.web_server import start_web_server

        web = start_web_server(HOST, web_port, api_url)
        print(banner(api_url, moto_url, campaign_ids, web_url), flush=True)

        while not stop.wait(0.5):
            if chalice.poll() is not None:
                log.error("chalice local exited with %s", chalice.returncode)
                return 1
        return 0
    finally:
        stop.set()
        if chalice is not None:
            stop_process_group(chalice)
        if web is not None:
            web.shutdown()
            web.server_close()
        for worker in workers:
            worker.join(timeout=15)
        moto.stop()
        log.info("stopped")


if __name__ == "__main__":
    sys.exit(main())
