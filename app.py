"""Wiring only: the Chalice app, its middleware, one blueprint per domain, the event handlers.

Event handlers are declared here (not in blueprints) so they run with the app's middleware, and
each is one line into its domain's jobs module.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from chalice import Chalice, ConvertToMiddleware, Cron

from chalicelib import clock
from chalicelib.config import settings
from chalicelib.coupons.api import bp as coupons_bp
from chalicelib.http import accept_any_media_type_without_body, cors_config, error_middleware
from chalicelib.lazy import lazy_module
from chalicelib.loyalty.api import bp as loyalty_bp
from chalicelib.observability import CORRELATION_PATHS, logger, metrics, tracer
from chalicelib.ops import bp as ops_bp
from chalicelib.reconciliation.api import bp as reconciliation_bp
from chalicelib.tradein.api import bp as tradein_bp
from chalicelib.tradein.backoffice_api import bp as tradein_backoffice_bp

if TYPE_CHECKING:  # loaded by the first event that runs them (chalicelib/lazy.py)
    from chalicelib.outbound import publisher
    from chalicelib.runs import service as runs
    from chalicelib.tradein import jobs as tradein_jobs
else:
    publisher = lazy_module("chalicelib.outbound.publisher")
    runs = lazy_module("chalicelib.runs.service")
    tradein_jobs = lazy_module("chalicelib.tradein.jobs")

app = Chalice(app_name="loyalty-backend")
app.experimental_feature_flags.update(["BLUEPRINTS"])
app.api.cors = cors_config()  # before the blueprints: routes take the default when registered

app.register_middleware(error_middleware, "http")
# Powertools' own decorators on every handler, as Chalice documents them (ConvertToMiddleware):
# the Lambda context and a correlation id on every log line, metrics published per invocation
# (also those of jobs run from the back office). Registered before the handlers are declared.
for event_type, correlation_id_path in CORRELATION_PATHS.items():
    app.register_middleware(
        ConvertToMiddleware(logger.inject_lambda_context(correlation_id_path=correlation_id_path, clear_state=True)),
        event_type,
    )
app.register_middleware(ConvertToMiddleware(metrics.log_metrics), "all")


@app.middleware("http")
def route_key(event: Any, get_response: Any) -> Any:
    logger.append_keys(route=(event.context or {}).get("resourcePath"))
    return get_response(event)


for blueprint in (ops_bp, loyalty_bp, coupons_bp, tradein_bp, tradein_backoffice_bp, reconciliation_bp):
    app.register_blueprint(blueprint)
accept_any_media_type_without_body(app)


# Schedules run in UTC: 01:30 UTC is 02:30 or 03:30 in Amsterdam, always the same local date.
@app.schedule(Cron(30, 1, "*", "*", "?", "*"), name="nightly_loyalty")
def nightly_loyalty(event: Any) -> dict[str, Any]:
    return _run_nightly("nightly_loyalty", event)


@app.schedule(Cron(45, 1, "*", "*", "?", "*"), name="nightly_tradein")
def nightly_tradein(event: Any) -> dict[str, Any]:
    return _run_nightly("nightly_tradein", event)


# The queue's name is fixed at deploy time like the table names (stage environment, NIGHTLY_QUEUE).
@app.on_sqs_message(queue=settings().nightly_queue, batch_size=1, name="nightly_worker")
def nightly_worker(event: Any) -> dict[str, Any]:
    """Units of the nightly runs, one message at a time (chalicelib.runs.service.work)."""
    results = [
        runs.work(json.loads(record.body), event.context.get_remaining_time_in_millis, _receive_count(record))
        for record in event
    ]
    return {"processed": len(results), "results": results}


@app.lambda_function(name="on_proof_uploaded")
def on_proof_uploaded(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return tradein_jobs.on_proof_uploaded(event)


# Domain events out: the template points this function at the streams of the ledger, coupon and
# claim tables (infra/template.py `publisher_resources`); the ARN here only names the first.
PUBLISHED_STREAM = "arn:aws:dynamodb:eu-west-1:000000000000:table/loyalty-prod-loyalty-history/stream/by-template"


@app.on_dynamodb_record(
    stream_arn=PUBLISHED_STREAM, batch_size=100, starting_position="TRIM_HORIZON", name="publish_events"
)
def publish_events(event: Any) -> dict[str, Any]:
    return publisher.publish(record.to_dict() for record in event)


@tracer.capture_method
def _run_nightly(job: str, event: Any) -> dict[str, Any]:
    """The coordinator: records the run (one per schedule event) and enqueues its units."""
    today = clock.event_date(event)
    tracer.put_annotation(key="job", value=job)
    return runs.start(job, today, trigger="schedule", event_id=getattr(event, "event_id", None))


def _receive_count(record: Any) -> int:
    return int(record.to_dict().get("attributes", {}).get("ApproximateReceiveCount", "1"))
