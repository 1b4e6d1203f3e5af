"""The claim policy (G5) from the configuration: `Settings` holds every default, once."""

from __future__ import annotations

from chalicelib.config import Settings, settings
from chalicelib.tradein import rules


def claim_policy(cfg: Settings | None = None) -> rules.ClaimPolicy:
    """The claim policy of `cfg` (the running configuration when not given)."""
    cfg = cfg or settings()
    return rules.ClaimPolicy(
        employee_email_domains=tuple(cfg.employee_email_domains),
        incomplete_working_days=cfg.tradein_incomplete_working_days,
        return_request_working_days=cfg.tradein_return_request_working_days,
        payout_within_days=cfg.tradein_payout_within_days,
        ip_velocity_per_day=cfg.tradein_ip_velocity_per_day,
    )
