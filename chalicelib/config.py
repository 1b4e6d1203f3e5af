"""One typed settings object, fed by environment variables (rule G5).

Read at call time (`settings()`), never cached at import, so tests and stages can change the
environment. Table names are the exception: PynamoDB fixes them when the models are imported,
so the environment must be set before the first import (tests/conftest.py does that).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CouponTier(BaseModel):
    amount_cents: int
    points: int


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore", frozen=True)

    aws_region: str = Field(default="eu-west-1", alias="AWS_DEFAULT_REGION")

    # auth
    auth_mode: Literal["dev", "cognito"] = "dev"
    auth_dev_secret: str = "local-dev-secret-change-me-32-bytes!"
    cognito_user_pool_id: str = ""
    cognito_app_client_id: str = ""
    # Signs the list cursors (chalicelib.pager); deployed: the template's CursorSecret parameter.
    cursor_secret: str = "local-dev-cursor-secret-change-me-32-bytes"

    # resources
    table_prefix: str = "loyalty-dev-"
    proofs_bucket: str = "loyalty-dev-proofs"
    ses_sender: str = "noreply@example.com"
    ses_configuration_set: str = ""  # deployed: the stack's set, whose events count bounces/complaints
    proof_upload_queue: str = ""  # local event bridge only: SQS queue fed by the bucket
    cors_allow_origin: str = "*"
    public_web_url: str = "http://127.0.0.1:8000/web"  # the web pages; e-mails link to its volg.html
    # nightly fan-out: the SQS queue of units of work that the `nightly_worker` Lambda drains
    nightly_queue: str = "loyalty-dev-nightly-work"
    nightly_parallelism: int = Field(default=8, ge=2, le=1000)  # concurrent workers (template)
    nightly_page_size: int = Field(default=200, ge=1, le=1000)  # items per page of a unit
    nightly_time_margin_seconds: int = 60  # a worker hands the rest on when less time is left
    nightly_max_receives: int = Field(default=5, ge=2)  # then the unit is recorded failed (DLQ)
    # domain events out (chalicelib/outbound): the EventBridge bus the publisher puts them on
    event_bus: str = "loyalty-dev-events"

    # loyalty (L1, L6, L7, L8, L9, L12)
    cents_per_point: int = 100
    return_period_days: int = 30
    base_points_validity_years: int = 2
    event_points_validity_years: int = 1
    welcome_points: int = 250
    consent_points: int = 100
    expiring_window_days: int = 90
    maturity_shards: int = 8
    reconciliation_shards: int = 4  # partitions of the members' `touched` index (issue 16)
    # at most this many lots in one spend or claw-back transaction (DynamoDB holds 100 actions)
    spend_max_lots: int = 90

    # coupons (C1, C2, C5, C6)
    coupon_tiers: list[CouponTier] = [
        CouponTier(amount_cents=2000, points=1000),
        CouponTier(amount_cents=4000, points=2000),
    ]
    coupon_validity_years: int = 1
    coupon_min_basket_cents: int = 2001
    coupon_excluded_channels: list[str] = ["outlet", "phone_subscriptions", "marketplace"]
    coupon_expiry_shards: int = 8  # partitions of the coupons' expiry index; only ever raise it

    # trade-in (T4, T13)
    employee_email_domains: list[str] = ["mediamarkt.nl", "microsoft.com", "intel.com"]
    proof_max_bytes: int = 10 * 1024 * 1024
    proof_upload_seconds: int = 900
    # The paying account of every pain.001 file: no default, a deploy parameter outside the dev and
    # test stages (whose .chalice/config.json sets a sample account); payouts refuse to start without.
    organiser_iban: str = ""
    organiser_bic: str = ""
    organiser_name: str = ""
    tradein_incomplete_working_days: int = 7  # T7
    tradein_return_request_working_days: int = 14  # T10
    tradein_payout_within_days: int = 30  # T11
    tradein_ip_velocity_per_day: int = 3  # T13: more registrations from one IP on one day are flagged
    tradein_claim_number_length: int = 8
    tradein_label_link_seconds: int = 7 * 24 * 3600  # presigned GET of the label PDF (SigV4 maximum)
    tradein_file_link_seconds: int = 3600  # presigned GET of a payout file
    # an e-mail claimed for sending and not marked sent after this long may be claimed again
    tradein_email_lease_seconds: int = 600
    tradein_return_address: list[str] = ["Opia t.a.v. MediaMarkt laptop inruil", "Postbus 2011", "1000 CA Amsterdam"]


def settings() -> Settings:
    """The settings as the environment says now.

    Building them costs about a millisecond and a request asks several times, so one object is
    kept per distinct environment: a changed variable still takes effect on the next call.
    """
    return _settings_for(frozenset(os.environ.items()))


@lru_cache(maxsize=8)
def _settings_for(environment: frozenset[tuple[str, str]]) -> Settings:
    return Settings()
