"""PynamoDB model of job runs. `__all__` lists the models provisioning creates.

One table: a run is the item (`run_id`, `sk = "run"`); each recorded segment of a unit of work
is an item beside it (`sk = "seg#<unit>#<n>"`), written once with attribute_not_exists.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.config import settings
from chalicelib.db import table_name

__all__ = ["RunModel"]

RUN_SK = "run"


class ByJobIndex(GlobalSecondaryIndex["RunModel"]):
    """Sparse: only run items carry `started_key` (`started_at#run_id`): a job's runs, newest first."""

    class Meta:
        index_name = "by-job"
        projection = AllProjection()

    job = UnicodeAttribute(hash_key=True)
    started_key = UnicodeAttribute(range_key=True)


class RunModel(Model):
    class Meta:
        table_name = table_name("job-runs")
        region = settings().aws_region

    run_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    # the run
    job = UnicodeAttribute(null=True)
    as_of = UnicodeAttribute(null=True)
    trigger = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    started_at = UnicodeAttribute(null=True)
    started_key = UnicodeAttribute(null=True)
    finished_at = UnicodeAttribute(null=True)
    units_total = NumberAttribute(null=True)
    outstanding = NumberAttribute(null=True)  # units not yet complete; the run is over at 0
    failed_units = NumberAttribute(null=True)
    summary: MapAttribute[str, Any] = MapAttribute(null=True)
    failures: ListAttribute[Any] = ListAttribute(null=True)
    failures_count = NumberAttribute(null=True)
    # a recorded segment
    next_cursor = UnicodeAttribute(null=True)  # JSON; absent on a unit's last segment
    recorded_at = UnicodeAttribute(null=True)

    by_job = ByJobIndex()
