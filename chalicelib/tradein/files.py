"""Every S3 object of the trade-in domain, in the proofs bucket: uploaded and checked proofs (T2,
T13), the return label PDF (T6) and the SEPA payout files (T11). No other trade-in module calls S3.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import clock
from chalicelib.config import settings
from chalicelib.db import client

PROOF_PREFIX = "proofs/"


def _bucket() -> str:
    return settings().proofs_bucket


# --- proofs --------------------------------------------------------------------------------------


def upload_key(claim_number: str, upload_id: str) -> str:
    """The one key an upload may write: `proofs/{claim}/{upload_id}`."""
    return f"{PROOF_PREFIX}{claim_number}/{upload_id}"


def checked_key(claim_number: str, upload_id: str) -> str:
    """Where a proof lives once checked: a key no upload policy names, so it cannot be overwritten."""
    return f"{PROOF_PREFIX}{claim_number}/checked/{upload_id}"


def parse_upload_key(bucket: str, key: str) -> tuple[str, str] | None:
    """(claim number, upload id) of an upload's key in the proofs bucket; None for anything else,
    the checked copies (`proofs/{claim}/checked/{upload}`) included."""
    parts = key.split("/")
    if len(parts) != 3 or parts[0] + "/" != PROOF_PREFIX or not parts[2] or bucket != _bucket():
        return None
    return parts[1], parts[2]


def presigned_upload(claim_number: str, content_type: str, now: datetime) -> dict[str, Any]:
    """A presigned S3 POST for the proof: exactly one new key per upload (`eq $key`, a fresh
    random upload id), the declared type (PDF, JPEG or PNG), at most the configured size, valid
    15 minutes. S3 enforces the policy; `on_proof_uploaded` checks size and real type again."""
    cfg = settings()
    key = upload_key(claim_number, secrets.token_hex(12))
    post = client("s3").generate_presigned_post(
        Bucket=cfg.proofs_bucket,
        Key=key,
        Fields={"Content-Type": content_type},
        # boto3 adds `{"key": key}` (an exact match, `eq $key`) for a key without `${filename}`.
        Conditions=[
            {"Content-Type": content_type},
            ["content-length-range", 1, cfg.proof_max_bytes],
        ],
        ExpiresIn=cfg.proof_upload_seconds,
    )
    return {
        "url": post["url"],
        "fields": post["fields"],
        "expires_at": clock.iso(now + timedelta(seconds=cfg.proof_upload_seconds)),
        "max_bytes": cfg.proof_max_bytes,
        "content_type": content_type,
    }


def _missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}


def head(bucket: str, key: str) -> dict[str, Any] | None:
    """The object's metadata (ETag, ContentLength), or None when it is gone."""
    try:
        return dict(client("s3").head_object(Bucket=bucket, Key=key))
    except ClientError as exc:
        if not _missing(exc):
            raise
        return None


def read(bucket: str, key: str, etag: str) -> bytes | None:
    """The object's bytes if it is still the one that was looked at (`IfMatch`), else None."""
    try:
        return bytes(client("s3").get_object(Bucket=bucket, Key=key, IfMatch=etag)["Body"].read())
    except ClientError as exc:
        if not _missing(exc) and exc.response.get("Error", {}).get("Code") not in {"412", "PreconditionFailed"}:
            raise
        return None


def delete(bucket: str, key: str) -> None:
    client("s3").delete_object(Bucket=bucket, Key=key)


def put_checked(bucket: str, key: str, body: bytes, content_type: str) -> None:
    """The checked copy of a proof (`checked_key`)."""
    client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)


# --- return label (T6) and payout files (T11) ----------------------------------------------------


def label_key(claim_number: str) -> str:
    return f"labels/{claim_number}.pdf"


def _link(key: str, seconds: int) -> str:
    return str(
        client("s3").generate_presigned_url("get_object", Params={"Bucket": _bucket(), "Key": key}, ExpiresIn=seconds)
    )


def put_label(claim_number: str, pdf: bytes) -> str:
    """Store the return form with the prepaid label; returns a presigned GET link to it."""
    key = label_key(claim_number)
    client("s3").put_object(Bucket=_bucket(), Key=key, Body=pdf, ContentType="application/pdf")
    return _link(key, settings().tradein_label_link_seconds)


def payout_file_key(batch_id: str) -> str:
    return f"payouts/{batch_id}.xml"


def put_payout_file(batch_id: str, xml: bytes) -> str:
    """Store a batch's pain.001 file; returns its key."""
    key = payout_file_key(batch_id)
    client("s3").put_object(Bucket=_bucket(), Key=key, Body=xml, ContentType="application/xml")
    return key


def payout_file_url(file_key: str) -> str:
    return _link(file_key, settings().tradein_file_link_seconds)
