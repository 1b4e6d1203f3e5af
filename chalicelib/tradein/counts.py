"""Claim counts per campaign and status, kept without ever reading the claims (G5, back office).

One counter item per (campaign, status) in the claim-keys table (`count#{campaign}#{status}`),
moved by DynamoDB's ADD inside the very transaction that creates a claim or changes its status,
plus one `count#{campaign}#all` that only ever grows (claims are never deleted): the campaign
PUT conditions on it to know whether claims rely on the campaign's terms.

Why counter items and not a Query per status, or a map on the campaign item: a Query reads
(and bills) every claim; a map on the campaign item would put every claim's write on one item
(ADD on a nested map path also fails while the map is missing). A counter per (campaign,
status) is an ADD on its own item, so claims of different statuses do not contend.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from chalicelib.tradein import rules
from chalicelib.tradein.models import ClaimKeyModel

ALL = "all"


def counter_key(campaign_id: str, status: str) -> str:
    return f"count#{campaign_id}#{status}"


def deltas(moves: Iterable[tuple[str, str | None, str | None]]) -> dict[str, int]:
    """The counter changes of some claim moves `(campaign, from_status, to_status)`, summed per
    counter item (a transaction may not touch one item twice); a new claim has no from-status."""
    found: Counter[str] = Counter()
    for campaign_id, source, target in moves:
        if source == target:
            continue
        if source is None:
            found[counter_key(campaign_id, ALL)] += 1
        else:
            found[counter_key(campaign_id, source)] -= 1
        if target is not None:
            found[counter_key(campaign_id, target)] += 1
    return {key: n for key, n in found.items() if n}


def add_to(tx: TransactWrite, moves: Iterable[tuple[str, str | None, str | None]]) -> None:
    """Write the counter changes of `moves` into the transaction `tx` (ADD, one per item)."""
    for key, n in sorted(deltas(moves).items()):
        tx.update(ClaimKeyModel(key), [ClaimKeyModel.counter.add(n)])


def claim_moves(changes: Iterable[tuple[rules.Claim, rules.Claim]]) -> list[tuple[str, str | None, str | None]]:
    return [(before.campaign_id, before.status, after.status) for before, after in changes]


def counts(campaign_ids: list[str]) -> dict[str, dict[str, int]]:
    """`{campaign_id: {status: count}}` for the given campaigns (statuses with claims only), by
    BatchGet of their counter items: never a read of the claims."""
    keys = [counter_key(c, s) for c in campaign_ids for s in rules.STATUSES]
    found: dict[str, dict[str, int]] = {c: {} for c in campaign_ids}
    for item in ClaimKeyModel.batch_get(keys):
        _, campaign_id, status = item.key.split("#")
        if item.counter and campaign_id in found:
            found[campaign_id][status] = int(item.counter)
    return found


def total(campaign_id: str) -> int:
    """How many claims were ever registered for a campaign (consistent read)."""
    try:
        return int(ClaimKeyModel.get(counter_key(campaign_id, ALL), consistent_read=True).counter or 0)
    except DoesNotExist:
        return 0
