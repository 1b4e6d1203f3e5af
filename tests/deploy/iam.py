"""Record every AWS call the app's code makes during the test run, and check it against infra/iam.

The recorder wraps botocore's `BaseClient._make_api_call` (which PynamoDB uses too) and the
presigning helpers, so it sees the real calls with their real parameters. A call counts as the
app's when a frame of `app.py` or `chalicelib/` (not provisioning) is on the stack; the outermost
such frame tells which Lambda would make it (API, nightly, proof upload).
"""

from __future__ import annotations

import fnmatch
import json
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import botocore.client
import botocore.signers

ROOT = Path(__file__).resolve().parents[2]
CHALICELIB = str(ROOT / "chalicelib") + "/"
APP = str(ROOT / "app.py")
IGNORED = (str(ROOT / "chalicelib" / "provision.py"),)
ACCOUNT = "123456789012"
PARTITION = "aws"

# Which hand-written policy each kind of entry point runs under (the template's FUNCTIONS).
POLICY_OF_ENTRY = {
    "api": "api.json",
    "nightly_loyalty": "nightly_loyalty.json",
    "nightly_tradein": "nightly_tradein.json",
    "proof": "proof_upload.json",
    "nightly_worker": "nightly_worker.json",
    "publish_events": "publish_events.json",
}
NIGHTLY = ("nightly_loyalty", "nightly_tradein")

S3_ACTIONS = {
    "HeadObject": "s3:GetObject",
    "GetObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "DeleteObject": "s3:DeleteObject",
    "DeleteObjects": "s3:DeleteObject",
    "CopyObject": "s3:PutObject",
    "ListObjectsV2": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "HeadBucket": "s3:ListBucket",
}
# SQS authorises a batch call with the action of its single form.
SQS_ACTIONS = {"SendMessageBatch": "sqs:SendMessage", "DeleteMessageBatch": "sqs:DeleteMessage"}
TRANSACT_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}


@dataclass(frozen=True)
class Access:
    """One IAM authorisation a call needs: action, resource ARN, condition context."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    entry: str  # api | nightly_loyalty | nightly_tradein | proof | any
    where: str  # the innermost app frame, file:function
    accesses: tuple[Access, ...]


@dataclass
class Recorder:
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)


RECORDER = Recorder()


def _app_frames(frame: FrameType | None) -> list[FrameType] | None:
    """The app's frames, outermost first; None when the call is not the app's (tests, provisioning)."""
    found: list[FrameType] = []
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename in IGNORED:
            return None
        if filename == APP or filename.startswith(CHALICELIB):
            found.append(frame)
        frame = frame.f_back
    return list(reversed(found)) or None


def entry_of(frames: list[FrameType]) -> str:
    """Which Lambda runs this code: decided by the outermost app frame."""
    outer = frames[0]
    filename, function = outer.f_code.co_filename, outer.f_code.co_name
    if filename == APP:
        if function in NIGHTLY or function in ("nightly_worker", "publish_events"):
            return function
        if function == "on_proof_uploaded":
            return "proof"
        return "api"  # the HTTP middleware
    relative = filename[len(CHALICELIB) :]
    if relative in ("http.py", "ops.py") or relative.endswith("/api.py"):
        return "api"
    if relative == "nightly.py" and function in NIGHTLY:
        return "nightly_worker"  # the whole night in one loop: what the workers do unit by unit
    # The domains' nightly work runs in the fan-out's worker (the coordinators only enqueue).
    if relative == "tradein/jobs.py":
        return "proof" if function == "on_proof_uploaded" else "nightly_worker"
    if relative in ("loyalty/jobs.py", "coupons/jobs.py"):
        return "nightly_worker"
    if relative.startswith("outbound/"):
        return "publish_events"  # the stream's publisher, called straight from a test
    return "any"  # a service function called straight from a test


def _table(region: str, name: str, index: str | None = None) -> str:
    arn = f"arn:{PARTITION}:dynamodb:{region}:{ACCOUNT}:table/{name}"
    return f"{arn}/index/{index}" if index else arn


def _s3(bucket: str, key: str | None = None) -> str:
    return f"arn:{PARTITION}:s3:::{bucket}" + (f"/{key}" if key is not None else "")


def accesses_of(service: str, operation: str, params: dict[str, Any], region: str) -> list[Access]:
    """The IAM actions and resources a botocore call is authorised against."""
    if service == "dynamodb":
        if operation in ("TransactWriteItems", "TransactGetItems"):
            out = []
            for item in params.get("TransactItems", []):
                for kind, body in item.items():
                    out.append(Access(TRANSACT_ACTIONS[kind], _table(region, body["TableName"])))
            return out
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [Access(f"dynamodb:{operation}", _table(region, t)) for t in params.get("RequestItems", {})]
        return [Access(f"dynamodb:{operation}", _table(region, params["TableName"], params.get("IndexName")))]
    if service == "s3":
        action = S3_ACTIONS.get(operation, f"s3:{operation}")
        key = params.get("Key") if action != "s3:ListBucket" else None
        out = [Access(action, _s3(params["Bucket"], key))]
        if operation == "CopyObject":
            source = params["CopySource"]
            source = f"{source['Bucket']}/{source['Key']}" if isinstance(source, dict) else source
            out.append(Access("s3:GetObject", f"arn:{PARTITION}:s3:::{source}"))
        return out
    if service in ("ses", "sesv2"):
        sender = params.get("Source") or params.get("FromEmailAddress") or ""
        identity = f"arn:{PARTITION}:ses:{region}:{ACCOUNT}:identity/{sender}"
        return [Access(f"ses:{operation}", identity, (("ses:FromAddress", sender),))]
    if service == "sqs":
        name = params.get("QueueName") or str(params.get("QueueUrl", "")).rsplit("/", 1)[-1]
        action = SQS_ACTIONS.get(operation, f"sqs:{operation}")
        return [Access(action, f"arn:{PARTITION}:sqs:{region}:{ACCOUNT}:{name}")]
    if service == "events":
        buses = {entry.get("EventBusName", "default") for entry in params.get("Entries", [])}
        return [
            Access(f"events:{operation}", f"arn:{PARTITION}:events:{region}:{ACCOUNT}:event-bus/{bus}")
            for bus in sorted(buses)
        ]
    return [Access(f"{service}:{operation}", "*")]


def _record(service: str, operation: str, params: dict[str, Any], region: str) -> None:
    frames = _app_frames(sys._getframe(2))
    if frames is None:
        return
    inner = frames[-1].f_code
    where = f"{inner.co_filename[len(str(ROOT)) + 1 :]}:{inner.co_name}"
    accesses = tuple(accesses_of(service, operation, params, region))
    RECORDER.add(Call(service, operation, entry_of(frames), where, accesses))


def install() -> None:
    """Wrap botocore once per process (idempotent)."""
    if getattr(botocore.client.BaseClient, "_iam_recorder", False):
        return
    original_call = botocore.client.BaseClient._make_api_call

    def make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        _record(self.meta.service_model.service_name, operation_name, api_params, self.meta.region_name)
        return original_call(self, operation_name, api_params)

    original_url = botocore.signers.generate_presigned_url
    original_post = botocore.signers.generate_presigned_post

    def presigned_url(self: Any, ClientMethod: str, Params: Any = None, **kwargs: Any) -> Any:
        operation = self.meta.method_to_api_mapping.get(ClientMethod, ClientMethod)
        _record(self.meta.service_model.service_name, operation, dict(Params or {}), self.meta.region_name)
        return original_url(self, ClientMethod, Params, **kwargs)

    def presigned_post(self: Any, Bucket: str, Key: str, *args: Any, **kwargs: Any) -> Any:
        _record("s3", "PutObject", {"Bucket": Bucket, "Key": Key}, self.meta.region_name)
        return original_post(self, Bucket, Key, *args, **kwargs)

    botocore.client.BaseClient._make_api_call = make_api_call  # type: ignore[method-assign]
    botocore.signers.generate_presigned_url = presigned_url
    botocore.signers.generate_presigned_post = presigned_post
    botocore.client.BaseClient._iam_recorder = True  # type: ignore[attr-defined]


# ---- policy evaluation -------------------------------------------------------------------------


def load_policy(filename: str, values: dict[str, str]) -> dict[str, Any]:
    """A policy of infra/iam with its `${...}` placeholders filled in (as CloudFormation would)."""
    text = (ROOT / "infra" / "iam" / filename).read_text()
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    if "${" in text:
        raise ValueError(f"{filename}: unknown placeholder left in {text[text.index('${') :][:40]}")
    return json.loads(text)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _condition_holds(condition: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, tests in condition.items():
        for key, expected in tests.items():
            actual = context.get(key)
            if actual is None:
                return False
            if operator == "StringEquals" and actual not in _as_list(expected):
                return False
            if operator == "StringLike" and not any(fnmatch.fnmatchcase(actual, p) for p in _as_list(expected)):
                return False
            if operator not in ("StringEquals", "StringLike"):
                raise ValueError(f"condition operator {operator} is not evaluated by this check")
    return True


def _matches(statement: dict[str, Any], access: Access) -> bool:
    actions = _as_list(statement.get("Action", []))
    if not any(fnmatch.fnmatch(access.action.lower(), a.lower()) for a in actions):
        return False
    if not any(fnmatch.fnmatchcase(access.resource, r) for r in _as_list(statement.get("Resource", []))):
        return False
    return _condition_holds(statement.get("Condition", {}), dict(access.context))


def allows(policy: dict[str, Any], access: Access) -> bool:
    """IAM's answer for one identity policy: an explicit Deny wins, else any Allow."""
    statements = policy["Statement"]
    if any(s["Effect"] == "Deny" and _matches(s, access) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and _matches(s, access) for s in statements)
