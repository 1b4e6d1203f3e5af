"""The proof of purchase (T2, T6, T7, T13): an uploaded object checked, attached or refused,
and the claim moved on. Called by the S3 event handler (`jobs.on_proof_uploaded`)."""

from __future__ import annotations

import hashlib
from datetime import datetime

import filetype

from chalicelib import clock
from chalicelib.config import settings
from chalicelib.errors import Conflict
from chalicelib.observability import logger
from chalicelib.tradein import files, lifecycle, outbox, rules, store
from chalicelib.tradein.lifecycle import claim_or_404
from chalicelib.tradein.store import StaleClaim

FLAG_DUPLICATE_PROOF = "DUPLICATE_PROOF"


def proof_uploaded(bucket: str, key: str, now: datetime) -> str:
    """Check and attach an uploaded proof, then move the claim on. Returns what happened.

    Every upload is its own object at its own key (`files.presigned_upload`), checked on its own:
    sniffed, sized, hashed and duplicate-checked (T13). A proof that checks out is copied to its
    checked key, which no upload can overwrite, and the upload is removed. Safe to run twice: the
    event of an upload already handled only resumes the claim where it stopped; another object
    put at a key already handled (a reused upload form) is removed and changes nothing.
    """
    parsed = files.parse_upload_key(bucket, key)
    if parsed is None:
        return "ignored"
    claim_number, upload_id = parsed
    claim = store.get_claim(claim_number)
    if claim is None:
        logger.warning("proof for unknown claim", extra={"key_prefix": claim_number})
        return "ignored"
    head = files.head(bucket, key)
    if claim.proof_upload_key == key:
        if head is None or head["ETag"] == claim.proof_etag:
            lifecycle.resume(claim, now)
            return "replayed"
        logger.warning("upload key reused after its proof was checked", extra={"claim_number": claim.claim_number})
        files.delete(bucket, key)
        return "ignored"
    if head is None:
        # A redelivered event for a proof already refused (and deleted), or attached by a run racing this one.
        logger.info("proof gone before it was checked", extra={"claim_number": claim.claim_number})
        return "ignored"
    if claim.status != "awaiting_proof":
        logger.info("proof ignored: claim not waiting", extra={"claim_number": claim.claim_number})
        return "ignored"
    max_bytes = settings().proof_max_bytes
    etag = str(head["ETag"])
    if int(head["ContentLength"]) > max_bytes:
        return _refuse_proof(claim, bucket, key, etag, rules.PROOF_TOO_LARGE, now)
    body = files.read(bucket, key, etag)
    if body is None:
        return "ignored"  # replaced meanwhile: the new object's own event checks it
    kind = filetype.guess(body) if body else None
    refusal = rules.proof_refusal(len(body), kind.mime if kind else None, max_bytes)
    if refusal is not None or kind is None:
        return _refuse_proof(claim, bucket, key, etag, refusal or rules.PROOF_UNSUPPORTED_TYPE, now)
    today = clock.local_date(now)
    if rules.is_past(claim.registration_by, today):
        lifecycle.flush(
            lifecycle.move(
                claim,
                "lapsed",
                now,
                detail="PROOF_LATE",
                lapse_reason="PROOF_LATE",
                email=outbox.Lapsed(reason="Het aankoopbewijs kwam na de registratietermijn binnen."),
            ),
            now,
        )
        return "lapsed"
    digest = hashlib.sha256(body).hexdigest()
    stored = files.checked_key(claim.claim_number, upload_id)
    files.put_checked(bucket, stored, body, kind.mime)
    for _ in range(3):
        first = store.claim_number_for(f"proof#{digest}")
        duplicate = first is not None and first != claim.claim_number
        flags = (
            (*claim.flags, FLAG_DUPLICATE_PROOF)
            if duplicate and FLAG_DUPLICATE_PROOF not in claim.flags
            else claim.flags
        )
        try:
            attached = lifecycle.attach_proof(
                claim,
                now,
                detail=FLAG_DUPLICATE_PROOF if duplicate else None,
                claim_key=None if first else f"proof#{digest}",
                proof_key=stored,
                proof_upload_key=key,
                proof_etag=etag,
                proof_sha256=digest,
                proof_content_type=kind.mime,
                flags=flags,
            )
            break
        except StaleClaim:
            claim = claim_or_404(claim.claim_number)
            if claim.proof_upload_key == key:
                lifecycle.resume(claim, now)
                return "replayed"
            if claim.status != "awaiting_proof":
                return "ignored"
    else:
        raise Conflict("CLAIM_CHANGED", "The claim kept changing while its proof was attached")
    if duplicate:
        logger.warning("duplicate proof", extra={"claim_number": claim.claim_number, "first_claim": first})
    files.delete(bucket, key)  # the checked copy is the proof now
    lifecycle.flush(attached, now)
    return "attached"


def _refuse_proof(claim: rules.Claim, bucket: str, key: str, etag: str, reason: str, now: datetime) -> str:
    """A proof that does not check out is deleted; the claim keeps waiting for a good one, with a
    timeline entry the participant sees and, while the registration window is open, an e-mail to
    upload again (API.md "Trade-in"). Recorded once per uploaded object (key and ETag)."""
    files.delete(bucket, key)
    marker = "refused#" + hashlib.sha256(f"{key}|{etag}".encode()).hexdigest()
    today = clock.local_date(now)
    for _ in range(3):
        if claim.status != "awaiting_proof" or store.claim_number_for(marker):
            return "refused"
        email = None
        if not rules.is_past(claim.registration_by, today):
            email = outbox.ProofRefused(reason=reason, upload_by=claim.registration_by)
        try:
            saved = lifecycle.note(claim, "proof_refused", reason, now, email=email, claim_key=marker)
        except StaleClaim:
            claim = claim_or_404(claim.claim_number)
            continue
        logger.info("proof refused", extra={"claim_number": claim.claim_number, "reason": reason})
        lifecycle.flush(saved, now)
        return "refused"
    logger.info("proof refusal not recorded: claim kept changing", extra={"claim_number": claim.claim_number})
    return "refused"
