"""Concurrent requests over real HTTP (moto's server): the conditions, not the reads, decide."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib import db
from chalicelib.errors import AppError
from chalicelib.loyalty import accounts, lot_store, member_store, spending
from tests.integration.loyalty.conftest import assert_ledger_consistent


def _try(call, *args):  # type: ignore[no-untyped-def]
    try:
        return call(*args)
    except (AppError, db.TransactionCancelled) as exc:
        return exc


@pytest.mark.rule("L9")
def test_parallel_consent_requests_award_the_points_once(moto_server):
    accounts.join("m-1", "m-1@example.com", "A", "B", None, False, False)
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda _: _try(accounts.update_profile, "m-1", {"partner_data_sharing": True}), range(6)))
    assert member_store.get_member("m-1").balance.available == 350
    assert_ledger_consistent("m-1")


@pytest.mark.rule("L8")
def test_parallel_sign_ups_award_the_welcome_points_once(moto_server):
    join = (accounts.join, "m-1", "m-1@example.com", "A", "B", None, False, False)
    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(lambda _: _try(*join), range(6)))
    assert sum(isinstance(o, accounts.Profile) for o in outcomes) == 1
    assert member_store.get_member("m-1").balance.available == 250
    assert len(lot_store.lots_of("m-1")) == 1


@pytest.mark.rule("L10")
def test_parallel_spends_never_overdraw(moto_server):
    accounts.join("m-1", "m-1@example.com", "A", "B", None, False, False)
    today = member_store.get_member("m-1").joined_on

    def spend(i: int) -> object:
        def run() -> None:
            with db.transaction() as tx:
                spending.add_spend(tx, spending.plan_spend("m-1", 100, today, f"coupon:{i}"))

        return _try(run)

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(spend, range(6)))
    spent = sum(o is None for o in outcomes)
    assert 1 <= spent <= 2
    assert member_store.get_member("m-1").balance.available == 250 - 100 * spent
    assert_ledger_consistent("m-1")
