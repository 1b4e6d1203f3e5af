"""PynamoDB model of the reconciliation's findings. `__all__` lists the models provisioning creates.

One item per mismatch and checked day (`day` = the run's as_of, `item_key` = member#kind[#lot],
`claim#<number>#<kind>` or `batch#<id>#batch_amount`): a rerun of the night writes the same
items again, so nothing is listed twice. A claim's finding compares statuses or a batch id
(`expected_text`/`actual_text`); numbers (`expected`/`actual`) are points or cents.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.config import settings
from chalicelib.db import table_name

__all__ = ["LiabilityModel", "MismatchModel"]


class MismatchModel(Model):
    class Meta:
        table_name = table_name("ops-reconciliation")
        region = settings().aws_region

    day = UnicodeAttribute(hash_key=True)
    item_key = UnicodeAttribute(range_key=True)
    member_id = UnicodeAttribute(null=True)  # a member's finding
    kind = UnicodeAttribute()
    expected = NumberAttribute(null=True)
    actual = NumberAttribute(null=True)
    lot_id = UnicodeAttribute(null=True)
    found_at = UnicodeAttribute()
    claim_number = UnicodeAttribute(null=True)  # a claim's finding
    batch_id = UnicodeAttribute(null=True)
    expected_text = UnicodeAttribute(null=True)
    actual_text = UnicodeAttribute(null=True)


class LiabilityModel(Model):
    """Points liability (issue 16), kept incrementally by the reconciliation units:

    - `member#<id>` / `seen`: what the member last contributed (`seen`, JSON), so a night adds
      only the change since (a rerun adds nothing);
    - `total#<shard>` / `total`: the running totals of one shard (numbers, `exp_YYYY_MM` per
      expiry month of available points), changed with `seen` in one transaction;
    - `snapshot#<date>` / `shard#<shard>`: the shard's totals when that night's unit ended.
    """

    class Meta:
        table_name = table_name("ops-liability")
        region = settings().aws_region

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
