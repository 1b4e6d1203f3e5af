"""The hand-written IAM policies (infra/iam) allow every AWS call the code makes, and no more than named
data resources.

Dynamic: tests/deploy/iam.py records each boto3/PynamoDB call the app's code makes during the whole
test session (with its real table, index, bucket key, sender); the last test checks each call
against the policy of the Lambda that would make it. Static: every `client("svc").method(...)` in
chalicelib is an action some policy allows, even where no test exercises it.
"""

from __future__ import annotations

import ast
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import boto3

from chalicelib.config import settings
from chalicelib.mail import Email, send
from chalicelib.tables import all_models
from tests.deploy import iam

ROOT = Path(__file__).resolve().parents[2]
POLICIES = sorted({*iam.POLICY_OF_ENTRY.values()})
DATA_SERVICES = ("dynamodb", "s3", "ses", "sqs")


def _values() -> dict[str, str]:
    cfg = settings()
    return {
        "AWS::Partition": iam.PARTITION,
        "AWS::Region": cfg.aws_region,
        "AWS::AccountId": iam.ACCOUNT,
        "AWS::StackName": "loyalty",
        "TablePrefix": cfg.table_prefix,
        "ProofsBucketName": cfg.proofs_bucket,
        "SesSender": cfg.ses_sender,
    }


def _policies() -> dict[str, dict[str, Any]]:
    return {name: iam.load_policy(name, _values()) for name in POLICIES}


def _denied(call: iam.Call, policies: dict[str, dict[str, Any]]) -> list[iam.Access]:
    if call.entry == "any":  # a service function called straight from a test: some Lambda must be allowed
        return [a for a in call.accesses if not any(iam.allows(p, a) for p in policies.values())]
    policy = policies[iam.POLICY_OF_ENTRY[call.entry]]
    return [a for a in call.accesses if not iam.allows(policy, a)]


def test_policies_have_no_wildcard_actions_and_name_their_data_resources() -> None:
    for name in POLICIES:
        document = json.loads((ROOT / "infra" / "iam" / name).read_text())
        for statement in document["Statement"]:
            actions = iam._as_list(statement["Action"])
            assert not [a for a in actions if "*" in a], f"{name} {statement.get('Sid')}: wildcard action"
            if any(a.split(":")[0] in DATA_SERVICES for a in actions):
                for resource in iam._as_list(statement["Resource"]):
                    assert resource != "*", f"{name} {statement.get('Sid')}: data actions on every resource"
                    assert "${" in resource, f"{name}: {resource} is not the stack's own resource"


def test_every_table_is_granted_to_some_lambda_and_no_policy_scans() -> None:
    values = _values()
    granted = {
        resource
        for policy in _policies().values()
        for statement in policy["Statement"]
        for resource in iam._as_list(statement["Resource"])
    }
    for model in all_models():
        table_arn = iam._table(values["AWS::Region"], model.Meta.table_name)
        assert table_arn in granted, f"no policy names the table {model.Meta.table_name}"
    for name, policy in _policies().items():
        scan = iam.Access("dynamodb:Scan", iam._table(values["AWS::Region"], f"{values['TablePrefix']}loyalty-lots"))
        assert not iam.allows(policy, scan), f"{name} allows Scan"


def test_policy_evaluation_matches_iam_semantics() -> None:
    policies = _policies()
    values = _values()
    api, proof = policies["api.json"], policies["proof_upload.json"]
    prefix, region = values["TablePrefix"], values["AWS::Region"]
    put_claim = iam.Access("dynamodb:PutItem", iam._table(region, f"{prefix}tradein-claims"))
    assert iam.allows(api, put_claim)
    assert not iam.allows(proof, iam.Access("dynamodb:PutItem", iam._table(region, f"{prefix}loyalty-lots")))
    assert not iam.allows(api, iam.Access("dynamodb:DeleteTable", iam._table(region, f"{prefix}tradein-claims")))
    sender = values["SesSender"]
    identity = f"arn:aws:ses:{region}:{iam.ACCOUNT}:identity/{sender}"
    assert iam.allows(proof, iam.Access("ses:SendEmail", identity, (("ses:FromAddress", sender),)))
    spoofed = iam.Access("ses:SendEmail", identity, (("ses:FromAddress", "ceo@example.com"),))
    assert not iam.allows(proof, spoofed)
    other_bucket = iam.Access("s3:GetObject", "arn:aws:s3:::someone-else/proofs/x.pdf")
    assert not iam.allows(proof, other_bucket)


def test_recorder_attributes_app_calls_and_ignores_test_calls(aws: None) -> None:
    before = len(iam.RECORDER.calls)
    boto3.client("s3", region_name=settings().aws_region).list_buckets()  # the test's own call
    send(Email(to="someone@example.com", subject="s", text="t"), reference="iam-check")
    new = iam.RECORDER.calls[before:]
    assert [(c.service, c.operation, c.entry) for c in new] == [("ses", "SendEmail", "any")]
    assert new[0].where == "chalicelib/mail.py:send"
    assert new[0].accesses[0].context == (("ses:FromAddress", settings().ses_sender),)
    assert not _denied(new[0], _policies())


def _client_calls() -> set[tuple[str, str, str]]:
    """(service, method, file) of every `client("svc").method(...)` in chalicelib, also via a variable."""
    found: set[tuple[str, str, str]] = set()
    for path in sorted((ROOT / "chalicelib").rglob("*.py")):
        if path.name == "provision.py":  # local stand-up only; the template creates these in AWS
            continue
        tree = ast.parse(path.read_text())
        for function in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]:
            bound: dict[str, str] = {}
            for node in ast.walk(function):
                if isinstance(node, ast.Assign) and _service_of(node.value) and isinstance(node.targets[0], ast.Name):
                    bound[node.targets[0].id] = _service_of(node.value) or ""
            for node in ast.walk(function):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                    target = node.func.value
                    service = _service_of(target) or (bound.get(target.id) if isinstance(target, ast.Name) else None)
                    if service:
                        found.add((service, node.func.attr, str(path.relative_to(ROOT))))
    return found


def _service_of(node: ast.AST) -> str | None:
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "client"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ):
        return str(node.args[0].value)
    return None


def test_every_client_call_in_the_code_is_an_allowed_action() -> None:
    calls = _client_calls()
    assert calls, "the scan found no client calls: is chalicelib's layout still client(...)?"
    policies = _policies()
    allowed = {
        action.lower()
        for policy in policies.values()
        for statement in policy["Statement"]
        if statement["Effect"] == "Allow"
        for action in iam._as_list(statement["Action"])
    }
    missing = []
    for service, method, where in sorted(calls):
        client = boto3.session.Session().client(service, region_name="eu-west-1")
        if method == "generate_presigned_post":
            operation = "PutObject"
        elif method == "generate_presigned_url":
            operation = "GetObject"
        else:
            operation = client.meta.method_to_api_mapping.get(method, method)
        accesses = iam.accesses_of(service, operation, {"Bucket": "b", "Key": "k", "TableName": "t"}, "eu-west-1")
        missing += [
            f"{where}: {service}.{method} needs {a.action}" for a in accesses if a.action.lower() not in allowed
        ]
    assert not missing, "\n".join(missing)


def test_every_recorded_call_is_allowed_for_its_lambda() -> None:
    """Runs last (tests/deploy/conftest.py): by then the recorder has seen the whole session."""
    calls = list(iam.RECORDER.calls)
    assert calls, "nothing recorded: the recorder is not installed"
    policies = _policies()
    problems: dict[str, set[str]] = defaultdict(set)
    for call in calls:
        for access in _denied(call, policies):
            policy = iam.POLICY_OF_ENTRY.get(call.entry, "any policy")
            problems[f"{call.entry} ({policy})"].add(f"{access.action} on {access.resource} from {call.where}")
    assert not problems, "calls the policies in infra/iam do not allow:\n" + "\n".join(
        f"  {entry}: {detail}" for entry, details in sorted(problems.items()) for detail in sorted(details)
    )
