"""The CloudFormation template merged into Chalice's (`chalice package --merge-template`).

Generated, not hand-written, where a second copy could drift: every DynamoDB table comes from
`chalicelib.tables.all_models()` (the same models provisioning creates locally and in tests). The IAM
policies are hand-written JSON in `infra/iam/`; this only turns their `${...}` placeholders into
`Fn::Sub` so they name the stack's own resources.

    python -m infra.template build/merge.json     # what `make package` runs
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra import alarms

if TYPE_CHECKING:
    from pynamodb.models import Model

ROOT = Path(__file__).resolve().parent.parent
IAM_DIR = Path(__file__).resolve().parent / "iam"
STAGE = "prod"

# Chalice's logical ids of each function (from the handler names in app.py) and of its role ->
# (the function's name after the stack name, its hand-written policy in infra/iam).
# `.chalice/config.json` gives each function the same policy file, so Chalice makes one role each.
FUNCTIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("APIHandler", "ApiHandlerRole"): ("api-handler", "api.json"),
    ("NightlyLoyalty", "NightlyLoyaltyRole"): ("nightly-loyalty", "nightly_loyalty.json"),
    ("NightlyTradein", "NightlyTradeinRole"): ("nightly-tradein", "nightly_tradein.json"),
    ("OnProofUploaded", "OnProofUploadedRole"): ("on-proof-uploaded", "proof_upload.json"),
    ("NightlyWorker", "NightlyWorkerRole"): ("nightly-worker", "nightly_worker.json"),
    ("PublishEvents", "PublishEventsRole"): ("publish-events", "publish_events.json"),
}
# The nightly work queue is named like the tables (`${TablePrefix}nightly-work`, NIGHTLY_QUEUE):
# Chalice wires the worker's event source by that name when it packages app.py.
WORK_QUEUE_SUFFIX = "nightly-work"
WORK_QUEUE_ARN = "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:%s"

# The functions' dependencies are one layer; `chalice package` (run by scripts/lambda_package.py
# with Python 3.11) gives the functions the same runtime.
DEPENDENCIES_LAYER = "DependenciesLayer"
LAMBDA_RUNTIME = "python3.11"

PROOFS_PREFIX = "proofs/"
FAILURE_QUEUE = "${AWS::StackName}-proof-upload-failures"  # proof_upload.json names it too
ERROR_TEMPLATE = '{"code": "%s", "message": $context.error.messageString, "details": {}}'
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "'*'",
    "Access-Control-Allow-Headers": "'Authorization,Content-Type,Idempotency-Key'",
}
# API Gateway's own answers (before the Lambda runs), in the contract's error shape with CORS:
# response type -> (status to answer with, or None to keep API Gateway's; the error code).
ANY_TYPE = "$context.error.responseType"  # e.g. BAD_REQUEST_BODY, REQUEST_TOO_LARGE, THROTTLED
GATEWAY_RESPONSES: dict[str, tuple[int | None, str]] = {
    "UNAUTHORIZED": (401, "UNAUTHORIZED"),
    "ACCESS_DENIED": (403, "FORBIDDEN"),
    "MISSING_AUTHENTICATION_TOKEN": (404, "NOT_FOUND"),  # API Gateway's answer to an unknown path
    "DEFAULT_4XX": (None, ANY_TYPE),
    "DEFAULT_5XX": (None, ANY_TYPE),
}


def stage_config(stage: str = STAGE) -> dict[str, Any]:
    stages: dict[str, dict[str, Any]] = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]
    return stages[stage]


def logical_id(name: str) -> str:
    """`loyalty-lots` -> `LoyaltyLots` (CloudFormation ids are alphanumeric)."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)


def table_specs() -> dict[str, dict[str, Any]]:
    """Every table of every model, by its name without the stage prefix, as DynamoDB sees it.

    Models that share a table are merged (their keys must agree).
    """
    from chalicelib.config import settings
    from chalicelib.tables import all_models

    prefix = settings().table_prefix
    specs: dict[str, dict[str, Any]] = {}
    for model in all_models():
        full_name = model.Meta.table_name
        if not full_name.startswith(prefix):
            raise ValueError(f"{model.__name__}: table {full_name} does not start with the prefix {prefix}")
        name = full_name[len(prefix) :]
        spec = model_spec(model)
        specs[name] = _merge_specs(name, specs[name], spec) if name in specs else spec
    return dict(sorted(specs.items()))


def model_spec(model: type[Model]) -> dict[str, Any]:
    """Keys, attribute types, indexes and TTL of one PynamoDB model, in CloudFormation's words."""
    schema = model._get_schema()
    ttl = model._ttl_attribute()
    return {
        "AttributeDefinitions": sorted(schema["attribute_definitions"], key=lambda a: a["AttributeName"]),
        "KeySchema": sorted(schema["key_schema"], key=lambda k: k["KeyType"]),
        "GlobalSecondaryIndexes": sorted(
            (_index(index) for index in schema["global_secondary_indexes"]), key=lambda i: i["IndexName"]
        ),
        "LocalSecondaryIndexes": sorted(
            (_index(index) for index in schema["local_secondary_indexes"]), key=lambda i: i["IndexName"]
        ),
        "TimeToLive": ttl.attr_name if ttl is not None else None,
        "StreamViewType": getattr(model.Meta, "stream_view_type", None),
    }


def _index(index: Mapping[str, Any]) -> dict[str, Any]:
    projection = dict(index["projection"])
    if "NonKeyAttributes" in projection:
        projection["NonKeyAttributes"] = sorted(projection["NonKeyAttributes"])
    return {
        "IndexName": index["index_name"],
        "KeySchema": sorted(index["key_schema"], key=lambda k: k["KeyType"]),
        "Projection": projection,
    }


def _merge_specs(name: str, first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    if first["KeySchema"] != second["KeySchema"]:
        raise ValueError(f"models of table {name} disagree on its key")
    merged = dict(first)
    for key in ("AttributeDefinitions", "GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        items = {json.dumps(item, sort_keys=True): item for item in first[key] + second[key]}
        merged[key] = [items[k] for k in sorted(items)]
    merged["TimeToLive"] = first["TimeToLive"] or second["TimeToLive"]
    merged["StreamViewType"] = first["StreamViewType"] or second["StreamViewType"]
    return merged


def table_resource(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """On-demand, point-in-time recovery, encrypted, TTL where the model has one; kept on stack deletion."""
    properties: dict[str, Any] = {
        "TableName": {"Fn::Sub": f"${{TablePrefix}}{name}"},
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": spec["AttributeDefinitions"],
        "KeySchema": spec["KeySchema"],
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
        "DeletionProtectionEnabled": True,
        "Tags": [{"Key": "app", "Value": "loyalty-backend"}],
    }
    if spec["GlobalSecondaryIndexes"]:
        properties["GlobalSecondaryIndexes"] = spec["GlobalSecondaryIndexes"]
    if spec["LocalSecondaryIndexes"]:
        properties["LocalSecondaryIndexes"] = spec["LocalSecondaryIndexes"]
    if spec["TimeToLive"]:
        properties["TimeToLiveSpecification"] = {"AttributeName": spec["TimeToLive"], "Enabled": True}
    if spec.get("StreamViewType"):
        properties["StreamSpecification"] = {"StreamViewType": spec["StreamViewType"]}
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": properties,
    }


def parameters() -> dict[str, Any]:
    prefix = stage_config()["environment_variables"]["TABLE_PREFIX"]
    return {
        "TablePrefix": {
            "Type": "String",
            "Default": prefix,
            "AllowedPattern": "^[a-z0-9][a-z0-9-]{0,40}-$",
            "Description": "Prefix of every DynamoDB table name (the app reads it as TABLE_PREFIX).",
        },
        "ProofsBucketName": {
            "Type": "String",
            "AllowedPattern": "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
            "Description": "Globally unique name of the S3 bucket for proofs of purchase and payout files.",
        },
        "ProofRetentionDays": {
            "Type": "Number",
            "Default": 400,
            "MinValue": 90,
            "Description": "Days after which uploaded proofs are deleted (claims end within months).",
        },
        "UploadAllowedOrigin": {
            "Type": "String",
            "Default": "*",
            "Description": "Browser origin allowed to POST proofs to the bucket (the webshop), or *.",
        },
        "SesSender": {
            "Type": "String",
            "AllowedPattern": "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$",
            "Description": "From address of every e-mail; must be (or become) a verified SES identity.",
        },
        "CreateSesIdentity": {
            "Type": "String",
            "Default": "true",
            "AllowedValues": ["true", "false"],
            "Description": "false when the sender (or its domain) is already a verified SES identity.",
        },
        "CognitoUserPoolId": {
            "Type": "String",
            "AllowedPattern": "^[\\w-]+_[0-9a-zA-Z]+$",
            "Description": "Cognito user pool whose RS256 tokens the API accepts (AUTH_MODE=cognito).",
        },
        "CognitoAppClientId": {
            "Type": "String",
            "AllowedPattern": "^[\\w+]+$",
            "Description": "The app client id that tokens must be issued for.",
        },
        "CursorSecret": {
            "Type": "String",
            "NoEcho": True,
            "MinLength": 32,
            "Description": "Signs the list cursors (HMAC-SHA256): 32+ random characters from the secret store.",
        },
        "OrganiserIban": {
            "Type": "String",
            "AllowedPattern": "^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$",
            "Description": "IBAN of the account every reward payout (pain.001) is paid from; no default.",
        },
        "OrganiserBic": {
            "Type": "String",
            "AllowedPattern": "^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$",
            "Description": "BIC of the paying account.",
        },
        "OrganiserName": {
            "Type": "String",
            "MinLength": 1,
            "MaxLength": 70,
            "Description": "Account holder name of the paying account, as the bank knows it.",
        },
        "LogRetentionDays": {
            "Type": "Number",
            "Default": 30,
            "AllowedValues": [7, 14, 30, 60, 90, 180, 365],
            "Description": "How long the functions' logs are kept.",
        },
    }


def bucket_resources() -> dict[str, Any]:
    """The proofs bucket: private, encrypted, CORS for browser POST, old proofs expire, uploads -> Lambda."""
    bucket_arn = {"Fn::Sub": "arn:${AWS::Partition}:s3:::${ProofsBucketName}"}
    return {
        "ProofsBucket": {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "DependsOn": ["ProofUploadInvokePermission"],
            "Properties": {
                "BucketName": {"Ref": "ProofsBucketName"},
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}
                    ]
                },
                "CorsConfiguration": {
                    "CorsRules": [
                        {
                            "AllowedOrigins": [{"Ref": "UploadAllowedOrigin"}],
                            "AllowedMethods": ["POST", "GET"],
                            "AllowedHeaders": ["*"],
                            "ExposedHeaders": ["ETag"],
                            "MaxAge": 3000,
                        }
                    ]
                },
                "LifecycleConfiguration": {
                    "Rules": [
                        {
                            "Id": "expire-old-proofs",
                            "Status": "Enabled",
                            "Prefix": PROOFS_PREFIX,
                            "ExpirationInDays": {"Ref": "ProofRetentionDays"},
                        },
                        {
                            "Id": "abort-incomplete-uploads",
                            "Status": "Enabled",
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                        },
                    ]
                },
                "NotificationConfiguration": {
                    "LambdaConfigurations": [
                        {
                            "Event": "s3:ObjectCreated:*",
                            "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": PROOFS_PREFIX}]}},
                            "Function": {"Fn::GetAtt": ["OnProofUploaded", "Arn"]},
                        }
                    ]
                },
            },
        },
        "ProofsBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "ProofsBucket"},
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "TlsOnly",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [bucket_arn, {"Fn::Sub": "arn:${AWS::Partition}:s3:::${ProofsBucketName}/*"}],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ],
                },
            },
        },
        # Uploads the handler still fails on after Lambda's retries wait here instead of being lost.
        "ProofUploadFailures": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": {"Fn::Sub": FAILURE_QUEUE},
                "MessageRetentionPeriod": 1209600,
                "SqsManagedSseEnabled": True,
            },
        },
        # The bucket is named by a parameter (not a GetAtt) so this permission and the bucket's
        # notification do not depend on each other in a cycle.
        "ProofUploadInvokePermission": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "FunctionName": {"Fn::GetAtt": ["OnProofUploaded", "Arn"]},
                "Action": "lambda:InvokeFunction",
                "Principal": "s3.amazonaws.com",
                "SourceArn": bucket_arn,
                "SourceAccount": {"Ref": "AWS::AccountId"},
            },
        },
    }


def nightly_resources(stage: str = STAGE) -> dict[str, Any]:
    """The work queue of the nightly fan-out and its dead-letter queue, sized from the stage's
    NIGHTLY_PARALLELISM: the worker's reserved concurrency and the event source's maximum
    concurrency are the parallelism; a unit received NIGHTLY_MAX_RECEIVES times (the worker
    records it failed on its last delivery) goes to the dead-letter queue."""
    from chalicelib.config import Settings

    config = stage_config(stage)
    env = config["environment_variables"]
    nightly = Settings(**{k.lower(): v for k, v in env.items() if k.startswith("NIGHTLY_")})
    if nightly.nightly_queue != f"{env['TABLE_PREFIX']}{WORK_QUEUE_SUFFIX}":
        raise ValueError("NIGHTLY_QUEUE must be TABLE_PREFIX + 'nightly-work' (the IAM policies name it so)")
    timeout = int(config["lambda_functions"]["nightly_worker"]["lambda_timeout"])
    return {
        "NightlyWorkDeadLetters": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": f"{nightly.nightly_queue}-dlq",
                "MessageRetentionPeriod": 1209600,
                "SqsManagedSseEnabled": True,
            },
        },
        "NightlyWorkQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": nightly.nightly_queue,
                "VisibilityTimeout": 6 * timeout,  # AWS's advice for a Lambda event source
                "MessageRetentionPeriod": 4 * 24 * 3600,
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": ["NightlyWorkDeadLetters", "Arn"]},
                    "maxReceiveCount": nightly.nightly_max_receives,
                },
            },
        },
        "NightlyWorker": {
            "DependsOn": ["NightlyWorkQueue"],
            "Properties": {
                "ReservedConcurrentExecutions": nightly.nightly_parallelism,
                "Events": {
                    "NightlyWorkerSqsEventSource": {
                        "Type": "SQS",
                        # Chalice names the queue's ARN and the batch size (1, from app.py); the
                        # merge adds only the concurrency cap (a GetAtt here would merge into
                        # Chalice's Fn::Sub and make an invalid Queue).
                        "Properties": {"ScalingConfig": {"MaximumConcurrency": nightly.nightly_parallelism}},
                    }
                },
            },
        },
    }


EVENT_BUS = "EventBus"
EVENT_BUS_NAME = "${TablePrefix}events"  # named like the work queue; publish_events.json names it too
EVENT_ARCHIVE_DAYS = 30  # consumers that were down can have the bus replay what they missed


def publisher_resources() -> dict[str, Any]:
    """Domain events out: the bus, its archive, and the publisher fed by the streams of the
    tables `chalicelib.outbound.mapping` reads (one event source per table).

    Chalice declares the first event source from app.py; the merge replaces its placeholder ARN
    with the table's stream (a plain string in Chalice's template, so a GetAtt replaces it whole)
    and adds the others. A batch that answers `batchItemFailures` is retried from the first
    record not published, until it succeeds: a record is never dropped (the iterator-age alarm
    says when one is stuck, well before the stream's 24 h retention ends).
    """
    from chalicelib.outbound.mapping import PUBLISHED_TABLES

    specs = table_specs()
    events: dict[str, Any] = {}
    for table in PUBLISHED_TABLES:
        if not specs[table]["StreamViewType"]:
            raise ValueError(f"table {table} is published but its model has no stream_view_type")
        name = (
            "PublishEventsDynamodbEventSource" if table == PUBLISHED_TABLES[0] else f"PublishEvents{logical_id(table)}"
        )
        events[name] = {
            "Type": "DynamoDB",
            "Properties": {
                "Stream": {"Fn::GetAtt": [f"{logical_id(table)}Table", "StreamArn"]},
                "StartingPosition": "TRIM_HORIZON",
                "BatchSize": 100,
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "ParallelizationFactor": 1,  # one batch per shard at a time: the stream's order
            },
        }
    return {
        EVENT_BUS: {"Type": "AWS::Events::EventBus", "Properties": {"Name": {"Fn::Sub": EVENT_BUS_NAME}}},
        "EventArchive": {
            "Type": "AWS::Events::Archive",
            "Properties": {
                "SourceArn": {"Fn::GetAtt": [EVENT_BUS, "Arn"]},
                "RetentionDays": EVENT_ARCHIVE_DAYS,
                "Description": "Every domain event, for replay to a consumer that missed some.",
            },
        },
        "PublishEvents": {"Properties": {"Events": events}},
    }


# The pages' Content-Security-Policy: their own files only; the API (API Gateway) and the proofs
# bucket's presigned POST/GET are on amazonaws.com; Swagger UI sets inline styles.
WEB_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https://*.amazonaws.com; "
    "connect-src 'self' https://*.amazonaws.com; frame-src https://*.amazonaws.com; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self' https://*.amazoncognito.com"
)
WEB_DISTRIBUTION_ARN = "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${WebDistribution}"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"  # CloudFront's managed cache policy


def web_resources() -> dict[str, Any]:
    """The web pages (web/): a private bucket served only through CloudFront (origin access
    control), HTTPS only, with security headers. The upload (files + config.js): README "Web pages"."""
    return {
        "WebBucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                },
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            },
        },
        "WebOriginAccessControl": {
            "Type": "AWS::CloudFront::OriginAccessControl",
            "Properties": {
                "OriginAccessControlConfig": {
                    "Name": {"Fn::Sub": "${AWS::StackName}-web"},
                    "OriginAccessControlOriginType": "s3",
                    "SigningBehavior": "always",
                    "SigningProtocol": "sigv4",
                }
            },
        },
        "WebResponseHeaders": {
            "Type": "AWS::CloudFront::ResponseHeadersPolicy",
            "Properties": {
                "ResponseHeadersPolicyConfig": {
                    "Name": {"Fn::Sub": "${AWS::StackName}-web"},
                    "SecurityHeadersConfig": {
                        "ContentSecurityPolicy": {"ContentSecurityPolicy": WEB_CSP, "Override": True},
                        "ContentTypeOptions": {"Override": True},
                        "FrameOptions": {"FrameOption": "DENY", "Override": True},
                        "ReferrerPolicy": {"ReferrerPolicy": "strict-origin-when-cross-origin", "Override": True},
                        "StrictTransportSecurity": {
                            "AccessControlMaxAgeSec": 31536000,
                            "IncludeSubdomains": True,
                            "Override": True,
                        },
                    },
                }
            },
        },
        "WebDistribution": {
            "Type": "AWS::CloudFront::Distribution",
            "Properties": {
                "DistributionConfig": {
                    "Enabled": True,
                    "Comment": {"Fn::Sub": "${AWS::StackName} web pages"},
                    "DefaultRootObject": "index.html",
                    "HttpVersion": "http2and3",
                    "PriceClass": "PriceClass_100",
                    "Origins": [
                        {
                            "Id": "web",
                            "DomainName": {"Fn::GetAtt": ["WebBucket", "RegionalDomainName"]},
                            "OriginAccessControlId": {"Fn::GetAtt": ["WebOriginAccessControl", "Id"]},
                            "S3OriginConfig": {"OriginAccessIdentity": ""},
                        }
                    ],
                    "DefaultCacheBehavior": {
                        "TargetOriginId": "web",
                        "ViewerProtocolPolicy": "redirect-to-https",
                        "AllowedMethods": ["GET", "HEAD"],
                        "Compress": True,
                        "CachePolicyId": CACHING_OPTIMIZED,
                        "ResponseHeadersPolicyId": {"Ref": "WebResponseHeaders"},
                    },
                }
            },
        },
        "WebBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "WebBucket"},
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "CloudFrontReadsThePages",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudfront.amazonaws.com"},
                            "Action": "s3:GetObject",
                            "Resource": {"Fn::Sub": "${WebBucket.Arn}/*"},
                            "Condition": {"StringEquals": {"AWS:SourceArn": {"Fn::Sub": WEB_DISTRIBUTION_ARN}}},
                        }
                    ],
                },
            },
        },
    }


def operations_resources(stage: str = STAGE) -> dict[str, Any]:
    """Alarms, their topic, the SES configuration set and the dashboard (infra/alarms.py)."""
    config = stage_config(stage)
    app = json.loads((ROOT / ".chalice" / "config.json").read_text())["app_name"]
    timeout = int(config["lambda_functions"]["nightly_worker"]["lambda_timeout"])
    queue = config["environment_variables"]["NIGHTLY_QUEUE"]
    return alarms.alarm_resources(app, config["api_gateway_stage"], timeout, queue)


def gateway_responses() -> dict[str, Any]:
    """Merged into Chalice's `RestAPI`: API Gateway's own errors carry CORS and the error body."""
    responses: dict[str, Any] = {}
    for response_type, (status, code) in GATEWAY_RESPONSES.items():
        response: dict[str, Any] = {
            "ResponseParameters": {"Headers": dict(CORS_HEADERS)},
            "ResponseTemplates": {"application/json": ERROR_TEMPLATE % code},
        }
        if status is not None:
            response["StatusCode"] = str(status)
        responses[response_type] = response
    return responses


def policy_document(filename: str) -> dict[str, Any]:
    """A hand-written policy from infra/iam, its `${...}` placeholders as Fn::Sub."""
    document: dict[str, Any] = _substitute(json.loads((IAM_DIR / filename).read_text()))
    return document


def _substitute(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v) for v in value]
    if isinstance(value, str) and "${" in value:
        return {"Fn::Sub": value}
    return value


def dependencies_layer() -> dict[str, Any]:
    """The layer with every runtime dependency (scripts/lambda_package.py builds layer.zip beside sam.json)."""
    return {
        "Type": "AWS::Serverless::LayerVersion",
        "Properties": {
            "LayerName": {"Fn::Sub": "${AWS::StackName}-dependencies"},
            "Description": "Runtime dependencies (manylinux2014 x86_64 wheels, CPython 3.11; no AWS SDK)",
            "ContentUri": "./layer.zip",
            "CompatibleRuntimes": [LAMBDA_RUNTIME],
            "CompatibleArchitectures": ["x86_64"],
            "RetentionPolicy": "Delete",
        },
    }


def function_overrides() -> dict[str, Any]:
    """Per function: the environment that comes from parameters, and its role's hand-written policy."""
    environment = {
        "TABLE_PREFIX": {"Ref": "TablePrefix"},
        "PROOFS_BUCKET": {"Ref": "ProofsBucketName"},
        "SES_SENDER": {"Ref": "SesSender"},
        "COGNITO_USER_POOL_ID": {"Ref": "CognitoUserPoolId"},
        "COGNITO_APP_CLIENT_ID": {"Ref": "CognitoAppClientId"},
        "CURSOR_SECRET": {"Ref": "CursorSecret"},
        "ORGANISER_IBAN": {"Ref": "OrganiserIban"},
        "ORGANISER_BIC": {"Ref": "OrganiserBic"},
        "ORGANISER_NAME": {"Ref": "OrganiserName"},
        "PUBLIC_WEB_URL": {"Fn::Sub": "https://${WebDistribution.DomainName}"},  # e-mails link to volg.html
        "SES_CONFIGURATION_SET": {"Ref": alarms.MAIL_CONFIGURATION_SET},
        "EVENT_BUS": {"Ref": EVENT_BUS},
    }
    resources: dict[str, Any] = {}
    for (function, role), (suffix, policy_file) in FUNCTIONS.items():
        # Named after the stack, so each role's log permission can name its own log groups.
        name = {"Fn::Sub": f"${{AWS::StackName}}-{suffix}"}
        resources[function] = {
            "Properties": {
                "FunctionName": name,
                "Environment": {"Variables": dict(environment)},
                "Layers": [{"Ref": DEPENDENCIES_LAYER}],
            }
        }
        resources[role] = {
            "Properties": {
                "Policies": [
                    {"PolicyName": f"{function}Policy", "PolicyDocument": policy_document(policy_file)},
                ]
            }
        }
        resources[function + "Logs"] = {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {
                "LogGroupName": {"Fn::Sub": f"/aws/lambda/${{AWS::StackName}}-{suffix}"},
                "RetentionInDays": {"Ref": "LogRetentionDays"},
            },
        }
    return resources


def build() -> dict[str, Any]:
    """The whole merge template."""
    resources: dict[str, Any] = {
        f"{logical_id(name)}Table": table_resource(name, spec) for name, spec in table_specs().items()
    }
    resources.update(bucket_resources())
    resources.update(web_resources())
    resources["SesSenderIdentity"] = {
        "Type": "AWS::SES::EmailIdentity",
        "Condition": "CreateSesIdentity",
        "Properties": {"EmailIdentity": {"Ref": "SesSender"}},
    }
    resources["RestAPI"] = {"Properties": {"GatewayResponses": gateway_responses()}}
    resources[DEPENDENCIES_LAYER] = dependencies_layer()
    resources.update(function_overrides())
    for name, resource in nightly_resources().items():
        if name in resources:
            resources[name]["Properties"].update(resource["Properties"])
            resources[name]["DependsOn"] = resource["DependsOn"]
        else:
            resources[name] = resource
    for name, resource in publisher_resources().items():
        if name in resources:
            resources[name]["Properties"].update(resource["Properties"])
        else:
            resources[name] = resource
    resources.update(operations_resources())
    resources["OnProofUploaded"]["Properties"]["EventInvokeConfig"] = {
        "MaximumRetryAttempts": 2,
        "DestinationConfig": {
            "OnFailure": {"Type": "SQS", "Destination": {"Fn::GetAtt": ["ProofUploadFailures", "Arn"]}}
        },
    }
    return {
        "Parameters": {**parameters(), **alarms.parameters()},
        "Conditions": {
            "CreateSesIdentity": {"Fn::Equals": [{"Ref": "CreateSesIdentity"}, "true"]},
            **alarms.conditions(),
        },
        "Resources": resources,
        "Outputs": {
            "ProofsBucket": {"Value": {"Ref": "ProofsBucket"}},
            "TablePrefix": {"Value": {"Ref": "TablePrefix"}},
            "ProofUploadFailures": {"Value": {"Ref": "ProofUploadFailures"}},
            "NightlyWorkDeadLetters": {"Value": {"Ref": "NightlyWorkDeadLetters"}},
            "WebBucket": {"Value": {"Ref": "WebBucket"}},
            "WebUrl": {"Value": {"Fn::Sub": "https://${WebDistribution.DomainName}"}},
            "AlarmTopic": {"Value": {"Ref": alarms.ALARM_TOPIC}},
            "EventBus": {"Value": {"Ref": EVENT_BUS}},
        },
    }


def apply_stage_environment(stage: str = STAGE) -> None:
    """Table names are fixed when the models are imported: set the stage's environment first."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    os.environ.update(config.get("environment_variables", {}))
    os.environ.update(config["stages"][stage].get("environment_variables", {}))
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m infra.template OUT.json", file=sys.stderr)
        return 2
    apply_stage_environment()
    sys.path.insert(0, str(ROOT))
    out = Path(argv[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(build(), indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
