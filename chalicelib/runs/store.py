"""Every read and write of job runs. Counters and summaries change by expressions (no read first);
a segment of a unit of work is recorded once (attribute_not_exists), in the same transaction as
the counts it adds to its run, so a redelivered message never counts twice."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from chalicelib.db import client
from chalicelib.runs.models import RUN_SK, RunModel
from chalicelib.runs.rules import MAX_FAILURES_KEPT, Tally

CURSOR_KEYS = ("job", "run_id", "sk", "started_key")

_to_wire = TypeSerializer().serialize
_from_wire = TypeDeserializer().deserialize


def _table() -> str:
    return str(RunModel.Meta.table_name)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [_plain(v) for v in value]
    return value


def _item(wire: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(_from_wire(v)) for k, v in wire.items()}


def _key(run_id: str, sk: str = RUN_SK) -> dict[str, Any]:
    return {"run_id": {"S": run_id}, "sk": {"S": sk}}


def _segment_sk(unit: str, segment: int) -> str:
    return f"seg#{unit}#{segment:06d}"


def create_run(run: dict[str, Any], units_total: int) -> bool:
    """Put a new run; False when a run of that id exists already (a redelivered schedule event)."""
    item = {
        **run,
        "sk": RUN_SK,
        "started_key": f"{run['started_at']}#{run['run_id']}",
        "units_total": units_total,
        "outstanding": units_total,
        "failed_units": 0,
        "summary": {},
        "failures": [],
        "failures_count": 0,
    }
    try:
        client("dynamodb").put_item(
            TableName=_table(),
            Item={k: _to_wire(v) for k, v in item.items() if v is not None},
            ConditionExpression="attribute_not_exists(run_id)",
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


def get_run(run_id: str) -> dict[str, Any] | None:
    answer = client("dynamodb").get_item(TableName=_table(), Key=_key(run_id), ConsistentRead=True)
    return _item(answer["Item"]) if "Item" in answer else None


def runs_of(job: str, limit: int, cursor: dict[str, Any] | None) -> tuple[list[dict[str, Any]], Any]:
    """A job's runs, newest first (GSI by-job, key `started_at#run_id`), one page."""
    params: dict[str, Any] = {
        "TableName": _table(),
        "IndexName": "by-job",
        "KeyConditionExpression": "#job = :job",
        "ExpressionAttributeNames": {"#job": "job"},
        "ExpressionAttributeValues": {":job": {"S": job}},
        "ScanIndexForward": False,
        "Limit": limit + 1,  # one more: a cursor only when more runs follow
    }
    if cursor:
        params["ExclusiveStartKey"] = cursor
    items = client("dynamodb").query(**params).get("Items", [])
    if len(items) <= limit:
        return [_item(i) for i in items], None
    last = items[limit - 1]
    return [_item(i) for i in items[:limit]], {k: last[k] for k in CURSOR_KEYS}


def recorded_segment(run_id: str, unit: str, segment: int) -> dict[str, Any] | None:
    """The record of a segment already done (its `next_cursor` decoded), or None."""
    answer = client("dynamodb").get_item(
        TableName=_table(), Key=_key(run_id, _segment_sk(unit, segment)), ConsistentRead=True
    )
    if "Item" not in answer:
        return None
    item = _item(answer["Item"])
    raw = item.get("next_cursor")
    return {**item, "next_cursor": json.loads(raw) if raw else None}


def record_segment(
    run_id: str,
    unit: str,
    segment: int,
    tally: Tally,
    next_cursor: Any,
    at: str,
    *,
    unit_failed: bool = False,
) -> bool:
    """Record one segment and add its counts to the run, once; the unit's last segment (no
    `next_cursor`) also takes the unit off the run's outstanding count. False: already recorded."""
    segment_item: dict[str, Any] = {"run_id": run_id, "sk": _segment_sk(unit, segment), "recorded_at": at}
    if next_cursor is not None:
        segment_item["next_cursor"] = json.dumps(next_cursor)
    names: dict[str, str] = {"#fc": "failures_count"}
    values: dict[str, Any] = {":nf": len(tally.failures)}
    sets: list[str] = []
    for i, (key, count) in enumerate(sorted(tally.counts.items())):
        names[f"#c{i}"], values[f":c{i}"] = key, count
        sets.append(f"#s.#c{i} = if_not_exists(#s.#c{i}, :zero) + :c{i}")
    for i, (key, listed) in enumerate(sorted(tally.lists.items())):
        names[f"#l{i}"], values[f":l{i}"] = key, listed
        sets.append(f"#s.#l{i} = list_append(if_not_exists(#s.#l{i}, :empty), :l{i})")
    if tally.counts or tally.lists:
        names["#s"] = "summary"
    if tally.counts:
        values[":zero"] = 0
    if tally.lists or tally.failures:
        values[":empty"] = []
    if tally.failures:
        names["#f"] = "failures"
        values[":f"] = tally.failures[:MAX_FAILURES_KEPT]
        sets.append("#f = list_append(if_not_exists(#f, :empty), :f)")
    adds = ["#fc :nf"]
    if next_cursor is None:
        names["#o"], values[":minus"] = "outstanding", -1
        adds.append("#o :minus")
    if unit_failed:
        names["#fu"], values[":one"] = "failed_units", 1
        adds.append("#fu :one")
    expression = (f"SET {', '.join(sets)} " if sets else "") + f"ADD {', '.join(adds)}"
    try:
        client("dynamodb").transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": _table(),
                        "Item": {k: _to_wire(v) for k, v in segment_item.items()},
                        "ConditionExpression": "attribute_not_exists(run_id)",
                    }
                },
                {
                    "Update": {
                        "TableName": _table(),
                        "Key": _key(run_id),
                        "UpdateExpression": expression,
                        "ConditionExpression": "attribute_exists(run_id)",
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": {k: _to_wire(v) for k, v in values.items()},
                    }
                },
            ]
        )
    except ClientError as exc:
        reasons = exc.response.get("CancellationReasons") or []
        if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
            return False
        raise
    return True


def finish_run(run_id: str, at: str) -> str | None:
    """Close the run once no unit is outstanding: `failed` if a unit failed, else `done`.
    None when units are still outstanding or the run is closed already. No read first.
    Each status names its own condition on `failed_units`: a worker whose `done` found units
    outstanding must not close as `failed` a run that another worker's last segment just ended."""
    for status, extra in (("done", " AND failed_units = :zero"), ("failed", " AND failed_units > :zero")):
        try:
            client("dynamodb").update_item(
                TableName=_table(),
                Key=_key(run_id),
                UpdateExpression="SET #st = :status, finished_at = :at",
                ConditionExpression=f"#st = :running AND outstanding <= :zero{extra}",
                ExpressionAttributeNames={"#st": "status"},
                ExpressionAttributeValues={
                    ":status": {"S": status},
                    ":at": {"S": at},
                    ":running": {"S": "running"},
                    ":zero": {"N": "0"},
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                continue
            raise
        return status
    return None
