"""Logger, Metrics and Tracer in one place. No-ops locally (env), real when deployed.

Logs carry ids and counts only, never personal data (rule T15).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = "loyalty-backend"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace="LoyaltyBackend", service=SERVICE)
tracer = Tracer(service=SERVICE)

__all__ = ["MetricUnit", "logger", "metrics", "tracer"]
