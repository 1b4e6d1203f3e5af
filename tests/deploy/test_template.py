"""The merged deploy template (infra/template.py) declares what the code uses, as provisioning does.

`make check-deploy` packages it with Chalice and runs cfn-lint; these tests check its content fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pynamodb.attributes import TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.config import settings
from chalicelib.db import client
from chalicelib.tables import all_models
from infra import template

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def merged() -> dict[str, Any]:
    return template.build()


def _tables(merged: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Table resources by their physical name in this (test) stage."""
    prefix = settings().table_prefix
    found = {}
    for resource in merged["Resources"].values():
        if resource.get("Type") == "AWS::DynamoDB::Table":
            name = resource["Properties"]["TableName"]["Fn::Sub"].replace("${TablePrefix}", prefix)
            found[name] = resource["Properties"]
    return found


def _keys(key_schema: list[dict[str, str]]) -> dict[str, str]:
    return {k["KeyType"]: k["AttributeName"] for k in key_schema}


def test_every_model_table_and_index_is_in_the_template_with_the_same_keys(merged: dict[str, Any]) -> None:
    tables = _tables(merged)
    for model in all_models():
        props = tables.get(model.Meta.table_name)
        assert props is not None, f"{model.__name__}: table {model.Meta.table_name} missing from the template"
        types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
        expected = {"HASH": model._hash_key_attribute().attr_name}
        if model._range_key_attribute() is not None:
            expected["RANGE"] = model._range_key_attribute().attr_name
        assert _keys(props["KeySchema"]) == expected, model.__name__
        for attr in (model._hash_key_attribute(), model._range_key_attribute()):
            if attr is not None:
                assert types[attr.attr_name] == attr.attr_type
        declared = {
            i["IndexName"]: i for i in props.get("GlobalSecondaryIndexes", []) + props.get("LocalSecondaryIndexes", [])
        }
        for index in model._indexes.values():
            spec = declared.get(index.Meta.index_name)
            assert spec is not None, f"{model.__name__}: index {index.Meta.index_name} missing"
            index_keys = {
                ("HASH" if a.is_hash_key else "RANGE"): a.attr_name
                for a in index.Meta.attributes.values()
                if a.is_hash_key or a.is_range_key
            }
            assert _keys(spec["KeySchema"]) == index_keys, f"{model.__name__}.{index.Meta.index_name}"
            assert spec["Projection"]["ProjectionType"] == index.Meta.projection.projection_type
            for a in index.Meta.attributes.values():
                if a.is_hash_key or a.is_range_key:
                    assert types[a.attr_name] == a.attr_type


def test_template_and_provisioning_create_the_same_tables(aws: None, merged: dict[str, Any]) -> None:
    """Provisioning (local, tests) and the template agree: keys, attribute types, indexes, projections."""
    dynamodb = client("dynamodb")
    tables = _tables(merged)
    assert set(tables) == set(dynamodb.list_tables()["TableNames"])
    for name, props in tables.items():
        live = dynamodb.describe_table(TableName=name)["Table"]
        assert _keys(live["KeySchema"]) == _keys(props["KeySchema"]), name
        assert sorted(live["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == props["AttributeDefinitions"]
        for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            live_indexes = {
                i["IndexName"]: (_keys(i["KeySchema"]), i["Projection"]["ProjectionType"]) for i in live.get(kind, [])
            }
            declared = {
                i["IndexName"]: (_keys(i["KeySchema"]), i["Projection"]["ProjectionType"]) for i in props.get(kind, [])
            }
            assert live_indexes == declared, f"{name} {kind}"


def test_tables_are_on_demand_recoverable_encrypted_and_kept(merged: dict[str, Any]) -> None:
    for logical, resource in merged["Resources"].items():
        if resource.get("Type") != "AWS::DynamoDB::Table":
            continue
        props = resource["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST", logical
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, logical
        assert props["SSESpecification"] == {"SSEEnabled": True}, logical
        assert resource["DeletionPolicy"] == "Retain", logical


def test_ttl_follows_the_models() -> None:
    class WithTtl(Model):
        class Meta:
            table_name = f"{settings().table_prefix}with-ttl"

        key = UnicodeAttribute(hash_key=True)
        expires_at = TTLAttribute(attr_name="ttl")

    resource = template.table_resource("with-ttl", template.model_spec(WithTtl))
    assert resource["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    for model in all_models():
        spec = template.model_spec(model)
        declared = "TimeToLiveSpecification" in template.table_resource("x", spec)["Properties"]
        assert declared == (model._ttl_attribute() is not None), model.__name__


def test_proofs_bucket_is_private_encrypted_cors_expiring_and_notifies_the_handler(merged: dict[str, Any]) -> None:
    resources = merged["Resources"]
    bucket = resources["ProofsBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    cors = bucket["CorsConfiguration"]["CorsRules"][0]
    assert "POST" in cors["AllowedMethods"]
    expiry = next(r for r in bucket["LifecycleConfiguration"]["Rules"] if "ExpirationInDays" in r)
    assert expiry["Prefix"] == "proofs/"
    (notification,) = bucket["NotificationConfiguration"]["LambdaConfigurations"]
    assert notification["Function"] == {"Fn::GetAtt": ["OnProofUploaded", "Arn"]}
    assert notification["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": "proofs/"}]
    permission = resources["ProofUploadInvokePermission"]["Properties"]
    assert permission["Principal"] == "s3.amazonaws.com"
    assert permission["FunctionName"] == {"Fn::GetAtt": ["OnProofUploaded", "Arn"]}
    assert "ProofUploadInvokePermission" in resources["ProofsBucket"]["DependsOn"]
    on_failure = resources["OnProofUploaded"]["Properties"]["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
    assert on_failure["Destination"] == {"Fn::GetAtt": ["ProofUploadFailures", "Arn"]}
    queue_name = resources["ProofUploadFailures"]["Properties"]["QueueName"]["Fn::Sub"]
    sends = [
        s["Resource"]
        for s in template.policy_document("proof_upload.json")["Statement"]
        if "sqs:SendMessage" in s["Action"]
    ]
    assert sends == [{"Fn::Sub": f"arn:${{AWS::Partition}}:sqs:${{AWS::Region}}:${{AWS::AccountId}}:{queue_name}"}]


def test_gateway_errors_carry_cors_and_the_contract_error_body(merged: dict[str, Any]) -> None:
    responses = merged["Resources"]["RestAPI"]["Properties"]["GatewayResponses"]
    assert responses["UNAUTHORIZED"]["StatusCode"] == "401"
    assert responses["ACCESS_DENIED"]["StatusCode"] == "403"
    for response in responses.values():
        assert response["ResponseParameters"]["Headers"]["Access-Control-Allow-Origin"] == "'*'"
        body = response["ResponseTemplates"]["application/json"]
        rendered = body.replace("$context.error.messageString", '"Unauthorized"').replace(
            "$context.error.responseType", "UNAUTHORIZED"
        )
        assert set(json.loads(rendered)) == {"code", "message", "details"}


def test_every_function_gets_its_policy_parameters_and_log_group(merged: dict[str, Any]) -> None:
    resources = merged["Resources"]
    stage = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["prod"]
    chalice_names = {
        "APIHandler": "api_handler",
        "NightlyLoyalty": "nightly_loyalty",
        "NightlyTradein": "nightly_tradein",
        "OnProofUploaded": "on_proof_uploaded",
        "NightlyWorker": "nightly_worker",
        "PublishEvents": "publish_events",
    }
    for (function, role), (_, policy_file) in template.FUNCTIONS.items():
        config = stage["lambda_functions"][chalice_names[function]]
        assert config["iam_policy_file"] == f"../infra/iam/{policy_file}", function
        variables = resources[function]["Properties"]["Environment"]["Variables"]
        for name in ("TABLE_PREFIX", "PROOFS_BUCKET", "SES_SENDER", "COGNITO_USER_POOL_ID", "COGNITO_APP_CLIENT_ID"):
            assert "Ref" in variables[name], f"{function}: {name} must come from a parameter"
            assert variables[name]["Ref"] in merged["Parameters"]
        (policy,) = resources[role]["Properties"]["Policies"]
        assert policy["PolicyDocument"]["Statement"], role
        assert resources[f"{function}Logs"]["Type"] == "AWS::Logs::LogGroup"
    assert stage["autogen_policy"] is False
    assert stage["environment_variables"]["AUTH_MODE"] == "cognito"
    assert "AUTH_DEV_SECRET" not in stage["environment_variables"]


def test_nightly_coordinators_only_enqueue_and_the_workers_scale_with_the_parallelism(
    merged: dict[str, Any],
) -> None:
    stage = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["prod"]
    for name in ("nightly_loyalty", "nightly_tradein"):
        config = stage["lambda_functions"][name]
        assert config["lambda_timeout"] <= 60  # it records the run and enqueues its units
        assert config["reserved_concurrency"] == 1
    assert stage["lambda_functions"]["nightly_worker"]["lambda_timeout"] == 900
    parallelism = int(stage["environment_variables"]["NIGHTLY_PARALLELISM"])
    resources = merged["Resources"]
    worker = resources["NightlyWorker"]["Properties"]
    assert worker["ReservedConcurrentExecutions"] == parallelism
    (source,) = worker["Events"].values()
    assert source["Properties"]["ScalingConfig"]["MaximumConcurrency"] == parallelism
    assert "Queue" not in source["Properties"]  # Chalice names the ARN of the queue called NIGHTLY_QUEUE
    queue = resources["NightlyWorkQueue"]["Properties"]
    assert queue["QueueName"] == stage["environment_variables"]["NIGHTLY_QUEUE"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == settings().nightly_max_receives
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["NightlyWorkDeadLetters", "Arn"]}
    assert queue["VisibilityTimeout"] >= 900
    assert stage["lambda_functions"]["api_handler"]["lambda_timeout"] <= 29  # API Gateway's integration limit


@pytest.mark.rule("T11")
def test_the_paying_account_is_a_required_parameter_in_every_functions_environment(merged):
    for name in ("OrganiserIban", "OrganiserBic", "OrganiserName"):
        assert "Default" not in merged["Parameters"][name], name
    for function in ("APIHandler", "NightlyTradein"):
        variables = merged["Resources"][function]["Properties"]["Environment"]["Variables"]
        assert variables["ORGANISER_IBAN"] == {"Ref": "OrganiserIban"}
        assert variables["ORGANISER_BIC"] == {"Ref": "OrganiserBic"}
        assert variables["ORGANISER_NAME"] == {"Ref": "OrganiserName"}
    stages = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]
    assert not {"ORGANISER_IBAN", "ORGANISER_BIC", "ORGANISER_NAME"} & set(stages["prod"]["environment_variables"])
    for sample in ("dev", "test"):
        assert stages[sample]["environment_variables"]["ORGANISER_IBAN"]


def _alarm_metrics(alarm: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(namespace, metric, dimensions) of every metric an alarm reads, direct or in metric math."""
    props = alarm["Properties"]
    if "MetricName" in props:
        return [(props["Namespace"], props["MetricName"], {d["Name"]: d["Value"] for d in props["Dimensions"]})]
    found = []
    for query in props["Metrics"]:
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            found.append(
                (metric["Namespace"], metric["MetricName"], {d["Name"]: d["Value"] for d in metric["Dimensions"]})
            )
    return found


def test_every_alarm_reads_its_metric_and_notifies_the_topic(merged: dict[str, Any]) -> None:
    resources = merged["Resources"]
    alarms_found = {name: r for name, r in resources.items() if r.get("Type") == "AWS::CloudWatch::Alarm"}
    stage = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["prod"]
    queue = stage["environment_variables"]["NIGHTLY_QUEUE"]
    service = {"service": "loyalty-backend"}
    api = {"ApiName": "loyalty-backend", "Stage": stage["api_gateway_stage"]}
    mail = {"ses:configuration-set": {"Ref": "MailConfigurationSet"}}
    expected = {
        "JobRunFailedAlarm": [("LoyaltyBackend", "JobRunFailed", service)],
        "ReconciliationMismatchAlarm": [("LoyaltyBackend", "ReconciliationMismatch", service)],
        "PayoutBatchOverdueAlarm": [("LoyaltyBackend", "PayoutBatchOverdue", service)],
        "NightlyWorkerDurationAlarm": [("AWS/Lambda", "Duration", {"FunctionName": {"Ref": "NightlyWorker"}})],
        "NightlyQueueAgeAlarm": [("AWS/SQS", "ApproximateAgeOfOldestMessage", {"QueueName": queue})],
        "NightlyDeadLettersAlarm": [("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": f"{queue}-dlq"})],
        "ProofUploadFailuresAlarm": [
            (
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                {"QueueName": {"Fn::GetAtt": ["ProofUploadFailures", "QueueName"]}},
            )
        ],
        "Api5xxRateAlarm": [("AWS/ApiGateway", "5XXError", api)],
        "ApiP99LatencyAlarm": [("AWS/ApiGateway", "Latency", api)],
        "MailBouncesAlarm": [("AWS/SES", "Bounce", mail)],
        "MailComplaintsAlarm": [("AWS/SES", "Complaint", mail)],
        "PublishEventsErrorsAlarm": [("AWS/Lambda", "Errors", {"FunctionName": {"Ref": "PublishEvents"}})],
        "PublishEventsIteratorAgeAlarm": [("AWS/Lambda", "IteratorAge", {"FunctionName": {"Ref": "PublishEvents"}})],
        "EventsNotPublishedAlarm": [("LoyaltyBackend", "EventsNotPublished", service)],
    }
    for name, metrics in expected.items():
        assert _alarm_metrics(alarms_found[name]) == metrics, name
    item_failures = _alarm_metrics(alarms_found["NightlyItemFailedAlarm"])
    assert {m for _, m, _ in item_failures} == {"NightlyItemFailed"}
    for alarm in alarms_found.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "OperationsAlarmTopic"}]
    # The thresholds that say "any": a failed run, a mismatch, an overdue batch, a dead letter.
    for name in (
        "JobRunFailedAlarm",
        "ReconciliationMismatchAlarm",
        "PayoutBatchOverdueAlarm",
        "NightlyDeadLettersAlarm",
    ):
        props = alarms_found[name]["Properties"]
        assert (props["ComparisonOperator"], props["Threshold"]) == ("GreaterThanThreshold", 0), name
    duration = alarms_found["NightlyWorkerDurationAlarm"]["Properties"]
    timeout_ms = stage["lambda_functions"]["nightly_worker"]["lambda_timeout"] * 1000
    assert 0 < duration["Threshold"] < timeout_ms and duration["Statistic"] == "Maximum"
    assert alarms_found["ApiP99LatencyAlarm"]["Properties"]["ExtendedStatistic"] == "p99"
    assert alarms_found["Api5xxRateAlarm"]["Properties"]["Statistic"] == "Average"  # 5XXError averages to a rate


def test_the_item_failure_alarm_sums_every_step_that_isolates_items(merged: dict[str, Any]) -> None:
    """Every `failures.item("<step>", ...)` in the code and every ItemFailures job is in the sum."""
    import re

    steps = set()
    for path in (ROOT / "chalicelib").rglob("*.py"):
        steps |= set(re.findall(r'failures\.item\(\s*"([a-z_]+)"', path.read_text()))
    summed = {dims["step"] for _, _, dims in _alarm_metrics(merged["Resources"]["NightlyItemFailedAlarm"])}
    assert steps <= summed
    expression = merged["Resources"]["NightlyItemFailedAlarm"]["Properties"]["Metrics"][-1]
    assert expression["ReturnData"] is True and expression["Expression"].startswith("SUM(")


def test_alarms_go_to_a_topic_with_an_optional_mail_subscription_and_a_dashboard_shows_them(
    merged: dict[str, Any],
) -> None:
    resources = merged["Resources"]
    assert resources["OperationsAlarmTopic"]["Type"] == "AWS::SNS::Topic"
    subscription = resources["OperationsAlarmSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert merged["Parameters"]["AlarmEmail"]["Default"] == ""
    body = resources["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(body)["widgets"]
    shown = {line[1] for widget in widgets for line in widget["properties"]["metrics"]}
    assert {"JobRunFailed", "ReconciliationMismatch", "PayoutBatchOverdue", "Duration", "5XXError", "Latency"} <= shown
    assert {"ApproximateAgeOfOldestMessage", "ApproximateNumberOfMessagesVisible", "Bounce", "Complaint"} <= shown


def test_mail_is_sent_with_the_stacks_configuration_set_whose_events_reach_cloudwatch(merged: dict[str, Any]) -> None:
    resources = merged["Resources"]
    destination = resources["MailEventsToCloudWatch"]["Properties"]
    assert destination["ConfigurationSetName"] == {"Ref": "MailConfigurationSet"}
    assert {"bounce", "complaint"} <= set(destination["EventDestination"]["MatchingEventTypes"])
    assert "CloudWatchDestination" in destination["EventDestination"]
    for function, _ in template.FUNCTIONS:
        variables = resources[function]["Properties"]["Environment"]["Variables"]
        assert variables["SES_CONFIGURATION_SET"] == {"Ref": "MailConfigurationSet"}


def test_the_app_sends_with_the_configuration_set_a_setting_names(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib import mail

    ses = client("ses")
    ses.verify_email_identity(EmailAddress=settings().ses_sender)
    sent: list[dict[str, Any]] = []
    real = ses.send_email

    def recording(**kwargs: Any) -> Any:
        sent.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(ses, "send_email", recording)
    mail.send(mail.Email("a@example.com", "s", "t"), "ref-1")
    monkeypatch.setenv("SES_CONFIGURATION_SET", "stack-mail")
    ses.create_configuration_set(ConfigurationSet={"Name": "stack-mail"})
    mail.send(mail.Email("a@example.com", "s", "t"), "ref-2")
    assert "ConfigurationSetName" not in sent[0]
    assert sent[1]["ConfigurationSetName"] == "stack-mail"


def test_the_item_failure_alarm_names_the_dimensions_the_deployed_code_emits(
    merged: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Emitted with the deployed environment (POWERTOOLS_SERVICE_NAME from .chalice/config.json)."""
    from chalicelib.tradein.isolation import ItemFailures

    for name, value in json.loads((ROOT / ".chalice" / "config.json").read_text())["environment_variables"].items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    capsys.readouterr()
    failures = ItemFailures("nightly_tradein")
    with failures.item("mark_paid", "N-1"):
        raise RuntimeError("down")
    (line,) = [json.loads(x) for x in capsys.readouterr().out.splitlines() if '"NightlyItemFailed"' in x]
    directive = line["_aws"]["CloudWatchMetrics"][0]
    emitted = {name: line[name] for name in directive["Dimensions"][0]}
    summed = [
        dims
        for namespace, metric, dims in _alarm_metrics(merged["Resources"]["NightlyItemFailedAlarm"])
        if (namespace, metric) == (directive["Namespace"], "NightlyItemFailed")
    ]
    assert emitted in summed


def test_the_published_tables_stream_and_feed_the_publisher_which_alone_puts_on_the_bus(
    merged: dict[str, Any],
) -> None:
    """Domain events out (docs/events.md): each table the mapping reads streams its changes
    (as provisioning makes it), one event source per stream, partial batch answers, the bus."""
    from chalicelib.outbound.mapping import PUBLISHED_TABLES

    resources = merged["Resources"]
    publisher = resources["PublishEvents"]["Properties"]
    sources = {s["Properties"]["Stream"]["Fn::GetAtt"][0]: s["Properties"] for s in publisher["Events"].values()}
    assert set(sources) == {f"{template.logical_id(t)}Table" for t in PUBLISHED_TABLES}
    for logical, source in sources.items():
        assert resources[logical]["Properties"]["StreamSpecification"]["StreamViewType"] in (
            "NEW_IMAGE",
            "NEW_AND_OLD_IMAGES",
        )
        assert source["Stream"] == {"Fn::GetAtt": [logical, "StreamArn"]}
        assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert source["StartingPosition"] == "TRIM_HORIZON"
    for model in all_models():
        declared = resources[f"{template.logical_id(model.Meta.table_name[len(settings().table_prefix) :])}Table"]
        assert ("StreamSpecification" in declared["Properties"]) == hasattr(model.Meta, "stream_view_type")
    assert resources["EventBus"]["Properties"]["Name"] == {"Fn::Sub": "${TablePrefix}events"}
    assert publisher["Environment"]["Variables"]["EVENT_BUS"] == {"Ref": "EventBus"}
    assert resources["EventArchive"]["Properties"]["SourceArn"] == {"Fn::GetAtt": ["EventBus", "Arn"]}
    assert merged["Outputs"]["EventBus"] == {"Value": {"Ref": "EventBus"}}
    policies = {
        name: json.loads((ROOT / "infra" / "iam" / name).read_text())
        for name in {p for _, p in template.FUNCTIONS.values()}
    }
    putting = {name for name, policy in policies.items() if "events:PutEvents" in json.dumps(policy)}
    assert putting == {"publish_events.json"}


def test_provisioning_streams_the_tables_the_template_streams(aws: None, merged: dict[str, Any]) -> None:
    dynamodb = client("dynamodb")
    for name, props in _tables(merged).items():
        live = dynamodb.describe_table(TableName=name)["Table"].get("StreamSpecification")
        declared = props.get("StreamSpecification")
        assert (live or {}).get("StreamViewType") == (declared or {}).get("StreamViewType"), name
