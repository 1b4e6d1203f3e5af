"""Returns whose line ids are any printable text, DynamoDB type tags included (L11, issue 9.1)."""

from __future__ import annotations

from datetime import datetime
from itertools import count

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chalicelib import flows
from chalicelib.clock import AMSTERDAM
from chalicelib.loyalty import earning, lot_store, member_store
from tests.integration.loyalty.conftest import assert_ledger_consistent, make_line

AT = datetime(2017, 8, 20, 10, tzinfo=AMSTERDAM)
LINE_IDS = st.text(min_size=1, max_size=64).filter(str.isprintable)
receipt_numbers = count()


@pytest.mark.rule("L11")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(line_id=LINE_IDS)
@example(line_id="N")
@example(line_id="S")
@example(line_id="B")
@example(line_id="M")
@example(line_id="L")
@example(line_id="NULL")
@example(line_id="BOOL")
def test_two_partial_returns_of_any_line_id_keep_points_and_quantities_right(member, buy, travel, line_id):
    travel("2017-08-10T14:00")
    if member_store.get_member("m-1") is None:
        member("m-1")
    pending_before = member_store.get_member("m-1").balance.pending
    receipt_id = f"R-{next(receipt_numbers)}"
    other = f"{line_id}-other"
    buy(receipt_id, "m-1", lines=(make_line(line_id, 10_000, quantity=3), make_line(other, 5_000)))
    assert member_store.get_member("m-1").balance.pending == pending_before + 350

    first, created = flows.record_return(receipt_id, f"{receipt_id}-a", AT, [(line_id, 1)], {"n": 1})
    assert created and first.points_reversed == 100
    assert earning.get_receipt(receipt_id).returned == {line_id: 1}

    second, created = flows.record_return(receipt_id, f"{receipt_id}-b", AT, [(line_id, 1), (other, 1)], {"n": 2})
    assert created and second.points_reversed == 150
    assert earning.get_receipt(receipt_id).returned == {line_id: 2, other: 1}
    assert lot_store.get_lot("m-1", f"receipt#{receipt_id}").remaining == 100
    assert member_store.get_member("m-1").balance.pending == pending_before + 100
    assert_ledger_consistent("m-1")
