"""Every JSON view of the trade-in domain: what a participant, the back office and the payout
list see of a claim or a batch (API.md "Trade-in", "Back office"), and the check of a client's
list cursor."""

from __future__ import annotations

from typing import Any

from chalicelib import clock
from chalicelib.errors import BadRequest
from chalicelib.tradein import files, rules, store
from chalicelib.tradein.masking import mask_participant


def tracking_json(claim: rules.Claim) -> dict[str, Any]:
    """What anyone with the number and postcode may see: no personal data (T14, T15)."""
    return {
        "claim_number": claim.claim_number,
        "campaign_id": claim.campaign_id,
        "status": claim.status,
        "timeline": public_timeline(claim),
        "reward_cents": claim.reward_cents,
        "deadlines": rules.deadlines(claim),
        "next_step": rules.next_step(claim, clock.today()),
    }


def public_timeline(claim: rules.Claim) -> list[dict[str, Any]]:
    """Status changes and refused proofs with their reason (API.md): what the participant may see."""
    shown: list[dict[str, Any]] = []
    for entry in claim.timeline:
        if entry.event == "status":
            shown.append({"at": clock.iso(entry.at), "status": entry.status})
        elif entry.event == "proof_refused":
            shown.append({"at": clock.iso(entry.at), "event": "proof_refused", "reason": entry.detail})
    return shown


def registered_json(claim: rules.Claim, upload: dict[str, Any] | None) -> dict[str, Any]:
    """The answer to a registration: the claim and, while it waits for its proof, an upload."""
    return {"claim_number": claim.claim_number, "status": claim.status, "upload": upload}


def upload_json(claim: rules.Claim, upload: dict[str, Any]) -> dict[str, Any]:
    return {"claim_number": claim.claim_number, "upload": upload}


def backoffice_json(claim: rules.Claim) -> dict[str, Any]:
    """A claim for the back office: personal data masked (T15), flags shown (T13)."""
    return {
        **tracking_json(claim),
        "receipt_id": claim.receipt_id,
        "laptop_line_id": claim.laptop_line_id,
        "registered_at": clock.iso(claim.registered_at),
        "purchase_date": claim.purchase_date.isoformat(),
        "participant": mask_participant(store.participant_json(claim.participant)),
        "old_device": {
            "brand": claim.old_device.brand,
            "model": claim.old_device.model,
            "screen_inches": claim.old_device.screen_inches,
        },
        "flags": list(claim.flags),
        "proof": {"content_type": claim.proof_content_type, "sha256": claim.proof_sha256} if claim.proof_key else None,
        "reason": claim.reason,
        "payout_batch_id": claim.payout_batch_id,
    }


def batch_json(batch: dict[str, Any]) -> dict[str, Any]:
    """A payout batch with a presigned link to its SEPA file (T11)."""
    return {
        "batch_id": batch["batch_id"],
        "status": batch["status"],
        "execution_date": batch["execution_date"],
        "claims": batch["claims"],
        "total_cents": batch["total_cents"],
        "file_url": files.payout_file_url(batch["file_key"]),
        "reason": batch["reason"],
    }


def start_key(key: Any, fields: dict[str, str | None]) -> dict[str, Any] | None:
    """A page's start key from a client's cursor, exactly as DynamoDB handed it out (string keys,
    fixed values where given); anything else is a 400, never a failed query."""
    if key is None:
        return None
    valid = isinstance(key, dict) and set(key) == set(fields)
    for name, fixed in fields.items():
        value = key.get(name) if valid else None
        valid = (
            valid
            and isinstance(value, dict)
            and list(value) == ["S"]
            and isinstance(value["S"], str)
            and 0 < len(value["S"].encode()) <= 1024
            and fixed in (None, value["S"])
        )
    if not valid:
        raise BadRequest("INVALID_CURSOR", "cursor is not one this API handed out")
    return dict(key)
