"""Alarms, their SNS topic and the operations dashboard of the stack (merged by infra/template.py).

Every alarm reads one metric the code emits or AWS publishes; `ALARMS` in the tests checks that
they name the right ones. The app's own metrics live in the `LoyaltyBackend` namespace:

- `NightlyItemFailed` (dimensions `job`, `step`): one item of a nightly step failed (isolation.py);
- `EventsNotPublished` (dimension `service`): domain events EventBridge refused after retries;
  their stream records are delivered again (chalicelib/outbound/publisher.py);
- `JobRunFailed`, `ReconciliationMismatch`, `PayoutBatchOverdue` (dimension `service`): a run
  ended `failed` (runs/service.py), the nightly reconciliation found a balance that its lots do
  not explain (reconciliation.py), a payout batch was not paid on its execution date.
"""

from __future__ import annotations

import json
from typing import Any

NAMESPACE = "LoyaltyBackend"
SERVICE = {"Name": "service", "Value": "loyalty-backend"}
ALARM_TOPIC = "OperationsAlarmTopic"
MAIL_CONFIGURATION_SET = "MailConfigurationSet"
# The steps that isolate bad items (`failures.item(step, ...)`), per job: the NightlyItemFailed
# alarm sums them (an alarm cannot search). tests/deploy/test_template.py keeps this list complete.
ITEM_STEPS: dict[str, tuple[str, ...]] = {
    "nightly_tradein": (
        "finish_reviews",
        "send_owed_emails",
        "void_returned",
        "lapse_overdue",
        "mark_paid",
        "settle_batches",
        "schedule_payouts",
    ),
    "on_proof_uploaded": ("proof_uploaded",),
}
WORKER_DURATION_SHARE = 0.8  # alarm when a worker invocation takes 80 % of its timeout
QUEUE_AGE_SECONDS = 3 * 3600  # a night's work should be drained within three hours
API_5XX_RATE = 0.01  # 1 % of requests in five minutes
API_P99_MS = 3000
# The publisher's oldest unpublished change: an hour leaves most of the stream's 24 h retention.
EVENTS_ITERATOR_AGE_MS = 3600 * 1000


def parameters() -> dict[str, Any]:
    return {
        "AlarmEmail": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": "^$|^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$",
            "Description": "Operations address subscribed to the alarm topic (empty: no subscription).",
        },
    }


def conditions() -> dict[str, Any]:
    return {"HasAlarmEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}}


def _alarm(description: str, threshold: float, metric: dict[str, Any], **extra: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "AlarmDescription": description,
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": threshold,
        "EvaluationPeriods": 1,
        "TreatMissingData": "notBreaching",
        "AlarmActions": [{"Ref": ALARM_TOPIC}],
        "OKActions": [{"Ref": ALARM_TOPIC}],
        **metric,
        **extra,
    }
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": properties}


def _metric(
    namespace: str, name: str, dimensions: list[dict[str, Any]], statistic: str = "Sum", period: int = 300
) -> dict[str, Any]:
    shape: dict[str, Any] = {"Namespace": namespace, "MetricName": name, "Dimensions": dimensions, "Period": period}
    if statistic.startswith("p"):
        shape["ExtendedStatistic"] = statistic
    else:
        shape["Statistic"] = statistic
    return shape


def _app_metric(name: str) -> dict[str, Any]:
    return _metric(NAMESPACE, name, [SERVICE], period=3600)


def _item_failures() -> dict[str, Any]:
    """Sum of NightlyItemFailed over every (job, step) that emits it, in metric math."""
    queries: list[dict[str, Any]] = []
    for job, steps in ITEM_STEPS.items():
        for step in steps:
            queries.append(
                {
                    "Id": f"m{len(queries)}",
                    "ReturnData": False,
                    "MetricStat": {
                        "Metric": {
                            "Namespace": NAMESPACE,
                            "MetricName": "NightlyItemFailed",
                            # single_metric adds the service (POWERTOOLS_SERVICE_NAME) to job and step
                            "Dimensions": [
                                {"Name": "job", "Value": job},
                                {"Name": "step", "Value": step},
                                SERVICE,
                            ],
                        },
                        "Period": 3600,
                        "Stat": "Sum",
                    },
                }
            )
    ids = ", ".join(q["Id"] for q in queries)
    queries.append({"Id": "failed", "Expression": f"SUM([{ids}])", "Label": "NightlyItemFailed", "ReturnData": True})
    return {"Metrics": queries}


def alarm_resources(app_name: str, api_stage: str, worker_timeout: int, queue: str) -> dict[str, Any]:
    """The topic, its optional e-mail subscription, the SES configuration set and every alarm."""
    api = [{"Name": "ApiName", "Value": app_name}, {"Name": "Stage", "Value": api_stage}]
    mail_set = [{"Name": "ses:configuration-set", "Value": {"Ref": MAIL_CONFIGURATION_SET}}]
    resources: dict[str, Any] = {
        ALARM_TOPIC: {
            "Type": "AWS::SNS::Topic",
            "Properties": {"TopicName": {"Fn::Sub": "${AWS::StackName}-alarms"}},
        },
        "OperationsAlarmSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Condition": "HasAlarmEmail",
            "Properties": {"TopicArn": {"Ref": ALARM_TOPIC}, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}},
        },
        # The app sends with this set (SES_CONFIGURATION_SET), so bounces and complaints are counted.
        MAIL_CONFIGURATION_SET: {
            "Type": "AWS::SES::ConfigurationSet",
            "Properties": {"Name": {"Fn::Sub": "${AWS::StackName}-mail"}},
        },
        "MailEventsToCloudWatch": {
            "Type": "AWS::SES::ConfigurationSetEventDestination",
            "Properties": {
                "ConfigurationSetName": {"Ref": MAIL_CONFIGURATION_SET},
                "EventDestination": {
                    "Name": "cloudwatch",
                    "Enabled": True,
                    "MatchingEventTypes": ["send", "delivery", "bounce", "complaint", "reject"],
                    "CloudWatchDestination": {
                        "DimensionConfigurations": [
                            {
                                "DimensionName": "ses:configuration-set",
                                "DimensionValueSource": "messageTag",
                                "DefaultDimensionValue": "none",
                            }
                        ]
                    },
                },
            },
        },
        "JobRunFailedAlarm": _alarm(
            "A nightly run ended failed (a unit failed on its last delivery).", 0, _app_metric("JobRunFailed")
        ),
        "NightlyItemFailedAlarm": _alarm(
            "Items of a nightly step or a proof upload failed; the next run retries them.", 0, _item_failures()
        ),
        "ReconciliationMismatchAlarm": _alarm(
            "The nightly reconciliation found balances their lots or history do not explain "
            "(GET /backoffice/reconciliation?date=).",
            0,
            _app_metric("ReconciliationMismatch"),
        ),
        "PayoutBatchOverdueAlarm": _alarm(
            "A payout batch was not paid on its execution date (docs/runbook.md).",
            0,
            _app_metric("PayoutBatchOverdue"),
        ),
        "NightlyWorkerDurationAlarm": _alarm(
            f"A nightly worker ran more than {int(WORKER_DURATION_SHARE * 100)} % of its {worker_timeout} s timeout.",
            WORKER_DURATION_SHARE * worker_timeout * 1000,
            _metric(
                "AWS/Lambda",
                "Duration",
                [{"Name": "FunctionName", "Value": {"Ref": "NightlyWorker"}}],
                statistic="Maximum",
            ),
        ),
        "NightlyQueueAgeAlarm": _alarm(
            "The nightly work queue holds a message older than three hours.",
            QUEUE_AGE_SECONDS,
            _metric(
                "AWS/SQS", "ApproximateAgeOfOldestMessage", [{"Name": "QueueName", "Value": queue}], statistic="Maximum"
            ),
        ),
        "NightlyDeadLettersAlarm": _alarm(
            "Nightly work messages are in the dead-letter queue (docs/runbook.md: replay a DLQ).",
            0,
            _metric(
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                [{"Name": "QueueName", "Value": f"{queue}-dlq"}],
                statistic="Maximum",
            ),
        ),
        "ProofUploadFailuresAlarm": _alarm(
            "Proof uploads failed after Lambda's retries (queue ProofUploadFailures).",
            0,
            _metric(
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["ProofUploadFailures", "QueueName"]}}],
                statistic="Maximum",
            ),
        ),
        "Api5xxRateAlarm": _alarm(
            f"More than {API_5XX_RATE:.0%} of API requests answered 5xx in five minutes.",
            API_5XX_RATE,
            _metric("AWS/ApiGateway", "5XXError", api, statistic="Average"),
        ),
        "ApiP99LatencyAlarm": _alarm(
            f"The API's p99 latency was above {API_P99_MS} ms for fifteen minutes.",
            API_P99_MS,
            _metric("AWS/ApiGateway", "Latency", api, statistic="p99"),
            EvaluationPeriods=3,
        ),
        "PublishEventsErrorsAlarm": _alarm(
            "The domain-event publisher failed; its stream batch is retried (docs/events.md).",
            0,
            _metric("AWS/Lambda", "Errors", [{"Name": "FunctionName", "Value": {"Ref": "PublishEvents"}}]),
        ),
        "EventsNotPublishedAlarm": _alarm(
            "EventBridge refused domain events after retries; their records are delivered again.",
            0,
            _metric(NAMESPACE, "EventsNotPublished", [SERVICE]),
        ),
        "PublishEventsIteratorAgeAlarm": _alarm(
            "Domain events wait more than an hour to be published (a stuck batch; docs/events.md).",
            EVENTS_ITERATOR_AGE_MS,
            _metric(
                "AWS/Lambda",
                "IteratorAge",
                [{"Name": "FunctionName", "Value": {"Ref": "PublishEvents"}}],
                statistic="Maximum",
            ),
        ),
        "MailBouncesAlarm": _alarm(
            "SES bounces of the app's e-mails (configuration set MailConfigurationSet).",
            5,
            _metric("AWS/SES", "Bounce", mail_set, period=3600),
        ),
        "MailComplaintsAlarm": _alarm(
            "Recipients marked the app's e-mails as spam.",
            0,
            _metric("AWS/SES", "Complaint", mail_set, period=3600),
        ),
    }
    resources["OperationsDashboard"] = dashboard(app_name, api_stage, queue)
    return resources


def dashboard(app_name: str, api_stage: str, queue: str) -> dict[str, Any]:
    """One page: the nightly runs and their queues, the API, reconciliation, payouts and mail."""

    def widget(title: str, metrics: list[list[Any]], stat: str = "Sum", x: int = 0, y: int = 0) -> dict[str, Any]:
        return {
            "type": "metric",
            "x": x,
            "y": y,
            "width": 12,
            "height": 6,
            "properties": {"title": title, "region": "${AWS::Region}", "stat": stat, "period": 300, "metrics": metrics},
        }

    service = ["service", "loyalty-backend"]
    api = ["ApiName", app_name, "Stage", api_stage]
    widgets = [
        widget(
            "Nightly runs",
            [
                [NAMESPACE, "JobRunFailed", *service],
                [NAMESPACE, "JobItemFailures", *service],
                [NAMESPACE, "ReconciliationMismatch", *service],
                [NAMESPACE, "PayoutBatchOverdue", *service],
            ],
        ),
        widget(
            "Nightly worker duration (ms)",
            [["AWS/Lambda", "Duration", "FunctionName", "${NightlyWorker}"]],
            stat="Maximum",
            x=12,
        ),
        widget(
            "Nightly queues",
            [
                ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", queue],
                ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", f"{queue}-dlq"],
            ],
            stat="Maximum",
            y=6,
        ),
        widget(
            "API 5xx rate and p99 latency",
            [
                ["AWS/ApiGateway", "5XXError", *api, {"stat": "Average"}],
                ["AWS/ApiGateway", "Latency", *api, {"stat": "p99", "yAxis": "right"}],
            ],
            x=12,
            y=6,
        ),
        widget(
            "Mail",
            [
                ["AWS/SES", "Send", "ses:configuration-set", "${MailConfigurationSet}"],
                ["AWS/SES", "Bounce", "ses:configuration-set", "${MailConfigurationSet}"],
                ["AWS/SES", "Complaint", "ses:configuration-set", "${MailConfigurationSet}"],
            ],
            y=12,
        ),
    ]
    body = json.dumps({"widgets": widgets}, sort_keys=True)
    return {
        "Type": "AWS::CloudWatch::Dashboard",
        "Properties": {
            "DashboardName": {"Fn::Sub": "${AWS::StackName}-operations"},
            "DashboardBody": {"Fn::Sub": body},
        },
    }
