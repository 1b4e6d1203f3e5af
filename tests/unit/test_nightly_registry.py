"""The job registry (chalicelib.nightly): every kind names a function, plans derive from it, and
the runner refuses a unit that no plan has."""

from __future__ import annotations

import inspect
from datetime import date

import pytest

from chalicelib import nightly


def test_every_kind_names_a_function_of_its_interface() -> None:
    for name, kind in nightly.KINDS.items():
        function = getattr(kind.module, kind.function)
        params = list(inspect.signature(function).parameters)
        assert len(params) == (4 if kind.paged else 1), name
        assert kind.paged == (kind.shards is not None), name  # every paged kind here is sharded


def test_every_unit_of_a_plan_is_a_kind_of_its_job_and_no_kind_is_unused() -> None:
    used = set()
    for job in nightly.JOBS:
        units = [unit for chain in nightly.plan(job) for unit in chain]
        assert len(units) == len(set(units)), job
        used |= {unit.partition(":")[0] for unit in units}
    assert used == set(nightly.KINDS)


def test_a_shard_chain_keeps_its_kinds_in_order() -> None:
    assert nightly.plan("nightly_loyalty")[0] == ["mature:0", "expire:0"]
    assert nightly.plan("nightly_tradein")[0][: len(nightly.TRADEIN_STEPS)] == list(nightly.TRADEIN_STEPS)


@pytest.mark.parametrize(
    ("job", "unit"),
    [
        ("nightly_loyalty", "finish_reviews"),  # a kind of the other job
        ("nightly_loyalty", "mature"),  # a sharded kind without its shard
        ("nightly_loyalty", "mature:9999"),  # past the shards
        ("nightly_loyalty", "returns:0"),  # a shard of a kind that has none
        ("nightly_tradein", "nope"),
    ],
)
def test_the_runner_refuses_a_unit_no_plan_has(job: str, unit: str) -> None:
    with pytest.raises(KeyError):
        nightly.run_unit(job, unit, date(2017, 9, 9), None, 10)
