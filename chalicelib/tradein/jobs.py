"""Nightly and S3-event work of the trade-in domain."""

from datetime import date
from typing import Any


def run_nightly(today: date) -> dict[str, Any]:
    """Deadlines (T7, T8, T10), payouts (T11) and due e-mails (T6)."""
    return {}


def on_proof_uploaded(event: dict[str, Any]) -> dict[str, Any]:
    """Check and attach uploaded proofs (T2, T13)."""
    return {"processed": 0}
