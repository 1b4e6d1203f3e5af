"""PynamoDB models of the trade-in domain. `__all__` lists the models provisioning creates.

- `CampaignModel`: a campaign's terms (one partition `campaign`, so listing is a Query).
- `ClaimModel`: a claim with its participant, proof, outcome, timeline and e-mail outbox.
  GSIs: `status_index` (back-office listing), `due_index` (the nightly's deadlines and payouts,
  keyed by status and date), `open_index` (claims in progress per campaign), `outbox_index`
  (e-mails owed). The last three are sparse: only claims that need them carry the keys.
  `receipt_index` and `email_index` (lower-cased lookup attributes) serve the back-office search.
- `ClaimKeyModel`: uniqueness items written in the claim's own transaction (one per address
  and per laptop, T3), the first claim of each proof file (T13), per-IP day counters (T13), the
  participant's look-up key (claim number + postcode, T14), the sending claim of each outbox
  e-mail (sent once) and the claim counters per campaign and status (`counts.py`).
- `PayoutBatchModel`: one SEPA payout file and its claims (T11). GSI `due_index` (sparse):
  scheduled batches by execution date, for settling.
"""

from __future__ import annotations

from pynamodb.attributes import (
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.constants import STREAM_NEW_AND_OLD_IMAGE
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.config import settings
from chalicelib.db import table_name

__all__ = ["CampaignModel", "ClaimKeyModel", "ClaimModel", "PayoutBatchModel"]

CAMPAIGN_SCOPE = "campaign"
BATCH_SCOPE = "batch"
OUTBOX_PENDING = "pending"
BATCH_DUE = "scheduled"


class CampaignModel(Model):
    class Meta:
        table_name = table_name("tradein-campaigns")
        region = settings().aws_region

    scope = UnicodeAttribute(hash_key=True, default=CAMPAIGN_SCOPE)
    campaign_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    starts_at = UnicodeAttribute()  # ISO 8601 with offset
    ends_at = UnicodeAttribute()
    min_line_price_cents = NumberAttribute()
    excluded_brands = ListAttribute(of=UnicodeAttribute)
    channels = ListAttribute(of=UnicodeAttribute)
    store_ids = ListAttribute(of=UnicodeAttribute, default=list)
    laptop_category = UnicodeAttribute()
    reward_cents = NumberAttribute()
    window_first_day = NumberAttribute()
    window_last_day = NumberAttribute()
    device_last_day = NumberAttribute()
    min_screen_inches = NumberAttribute()
    max_device_age_years = NumberAttribute()
    device_criteria = UnicodeAttribute()
    version = NumberAttribute(default=1)  # the campaign PUT writes on the version it read


class TimelineAttribute(MapAttribute[str, str]):
    at = UnicodeAttribute()
    status = UnicodeAttribute()
    event = UnicodeAttribute()
    detail = UnicodeAttribute(null=True)


class StatusIndex(GlobalSecondaryIndex["ClaimModel"]):
    class Meta:
        index_name = "status_index"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    registered_at = UnicodeAttribute(range_key=True)


class DueIndex(GlobalSecondaryIndex["ClaimModel"]):
    class Meta:
        index_name = "due_index"
        projection = KeysOnlyProjection()

    due_status = UnicodeAttribute(hash_key=True)
    due_on = UnicodeAttribute(range_key=True)


class OpenIndex(GlobalSecondaryIndex["ClaimModel"]):
    class Meta:
        index_name = "open_index"
        projection = KeysOnlyProjection()

    open_campaign = UnicodeAttribute(hash_key=True)


class OutboxIndex(GlobalSecondaryIndex["ClaimModel"]):
    class Meta:
        index_name = "outbox_index"
        projection = KeysOnlyProjection()

    outbox_pending = UnicodeAttribute(hash_key=True)


class ReceiptIndex(GlobalSecondaryIndex["ClaimModel"]):
    """Back-office search by receipt id (lower-cased), never a scan."""

    class Meta:
        index_name = "receipt_index"
        projection = KeysOnlyProjection()

    receipt_lookup = UnicodeAttribute(hash_key=True)
    registered_at = UnicodeAttribute(range_key=True)


class EmailIndex(GlobalSecondaryIndex["ClaimModel"]):
    """Back-office search by the participant's e-mail address (lower-cased), never a scan."""

    class Meta:
        index_name = "email_index"
        projection = KeysOnlyProjection()

    email_lookup = UnicodeAttribute(hash_key=True)
    registered_at = UnicodeAttribute(range_key=True)


class TouchedIndex(GlobalSecondaryIndex["ClaimModel"]):
    """Nightly claim reconciliation and liability (issue 16): claims by (shard, the day they were
    last written); every claim write sets both keys (store._state)."""

    class Meta:
        index_name = "touched_index"
        projection = KeysOnlyProjection()

    touched_shard = NumberAttribute(hash_key=True)
    touched_on = UnicodeAttribute(range_key=True)


class ClaimModel(Model):
    class Meta:
        table_name = table_name("tradein-claims")
        region = settings().aws_region
        stream_view_type = STREAM_NEW_AND_OLD_IMAGE  # domain events out (chalicelib/outbound)

    claim_number = UnicodeAttribute(hash_key=True)
    version = NumberAttribute()
    campaign_id = UnicodeAttribute()
    receipt_id = UnicodeAttribute()
    laptop_line_id = UnicodeAttribute()
    status = UnicodeAttribute()
    registered_at = UnicodeAttribute()
    purchase_date = UnicodeAttribute()
    registration_by = UnicodeAttribute()
    device_by = UnicodeAttribute()
    participant = JSONAttribute()
    old_device = JSONAttribute()
    client_ip = UnicodeAttribute()
    flags = ListAttribute(of=UnicodeAttribute, default=list)
    timeline = ListAttribute(of=TimelineAttribute, default=list)
    proof_key = UnicodeAttribute(null=True)  # the checked copy (`proofs/{claim}/checked/{upload}`)
    proof_upload_key = UnicodeAttribute(null=True)  # the upload it was copied from
    proof_etag = UnicodeAttribute(null=True)  # the upload's ETag when it was checked
    proof_sha256 = UnicodeAttribute(null=True)
    proof_content_type = UnicodeAttribute(null=True)
    complete_by = UnicodeAttribute(null=True)
    return_request_by = UnicodeAttribute(null=True)
    reward_cents = NumberAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    success_notified_on = UnicodeAttribute(null=True)
    approved_status = UnicodeAttribute(null=True)
    payout_batch_id = UnicodeAttribute(null=True)
    payout_attempt = NumberAttribute(default=0)
    execution_date = UnicodeAttribute(null=True)
    lapse_reason = UnicodeAttribute(null=True)
    received_on = UnicodeAttribute(null=True)
    void_return_id = UnicodeAttribute(null=True)
    outbox = JSONAttribute(null=True)
    due_status = UnicodeAttribute(null=True)
    due_on = UnicodeAttribute(null=True)
    open_campaign = UnicodeAttribute(null=True)
    outbox_pending = UnicodeAttribute(null=True)
    receipt_lookup = UnicodeAttribute(null=True)
    email_lookup = UnicodeAttribute(null=True)
    touched_shard = NumberAttribute(null=True)
    touched_on = UnicodeAttribute(null=True)

    status_index = StatusIndex()
    due_index = DueIndex()
    open_index = OpenIndex()
    outbox_index = OutboxIndex()
    receipt_index = ReceiptIndex()
    email_index = EmailIndex()
    touched_index = TouchedIndex()


class ClaimKeyModel(Model):
    class Meta:
        table_name = table_name("tradein-claim-keys")
        region = settings().aws_region

    key = UnicodeAttribute(hash_key=True)
    claim_number = UnicodeAttribute(null=True)
    # `counter`, not `count`: that would shadow `Model.count()`; stored as "count" as before.
    counter = NumberAttribute(null=True, attr_name="count")
    # `email#{claim}#{item}`: an outbox item claimed for sending (lease) and, once SES took it, sent.
    token = UnicodeAttribute(null=True)
    claimed_at = UnicodeAttribute(null=True)
    sent_at = UnicodeAttribute(null=True)


class BatchDueIndex(GlobalSecondaryIndex["PayoutBatchModel"]):
    """Scheduled batches by execution date (sparse: only a `scheduled` batch carries `due_scope`),
    so settling follows the batches that are due, never the whole history."""

    class Meta:
        index_name = "due_index"
        projection = AllProjection()

    due_scope = UnicodeAttribute(hash_key=True)
    execution_date = UnicodeAttribute(range_key=True)


class PayoutBatchModel(Model):
    class Meta:
        table_name = table_name("tradein-payouts")
        region = settings().aws_region

    scope = UnicodeAttribute(hash_key=True, default=BATCH_SCOPE)
    batch_id = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()  # scheduled | paid | failed
    execution_date = UnicodeAttribute()
    created_on = UnicodeAttribute()
    claim_numbers = ListAttribute(of=UnicodeAttribute)
    total_cents = NumberAttribute()
    file_key = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    due_scope = UnicodeAttribute(null=True)  # BATCH_DUE while scheduled (`due_index`)

    due_index = BatchDueIndex()
