"""Presigned POSTs and GET links are signed with SigV4 (S3 refuses SigV2 on new buckets)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import requests

from chalicelib.config import settings
from chalicelib.db import client
from chalicelib.tradein.files import presigned_upload


def _assert_sigv4_post(fields: dict[str, str]) -> None:
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert fields["x-amz-credential"].split("/")[2:] == [settings().aws_region, "s3", "aws4_request"]
    assert datetime.strptime(fields["x-amz-date"], "%Y%m%dT%H%M%SZ")
    assert len(fields["x-amz-signature"]) == 64
    assert fields["policy"]
    assert "AWSAccessKeyId" not in fields and "signature" not in fields


def test_presigned_post_and_get_links_are_sigv4(aws):
    post = presigned_upload("SIG4TEST", "application/pdf", datetime.now(UTC))
    _assert_sigv4_post(post["fields"])
    link = client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": settings().proofs_bucket, "Key": "proofs/x.pdf"}, ExpiresIn=60
    )
    query = parse_qs(urlparse(link).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert {"X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-Signature"} <= set(query)
    assert "AWSAccessKeyId" not in query and "Signature" not in query
    assert urlparse(link).hostname == f"{settings().proofs_bucket}.s3.{settings().aws_region}.amazonaws.com"


def test_a_browser_like_post_to_the_local_s3_is_accepted_and_the_link_serves_it(moto_server):
    post = presigned_upload("SIG4TEST", "application/pdf", datetime.now(UTC))
    _assert_sigv4_post(post["fields"])
    assert post["url"].startswith(moto_server)  # path style on the local endpoint
    content = b"%PDF-1.4\n%sigv4\n"
    upload = requests.post(
        post["url"], data=post["fields"], files={"file": ("bon.pdf", content, "application/pdf")}, timeout=10
    )
    assert upload.status_code == 204, upload.text
    link = client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": settings().proofs_bucket, "Key": post["fields"]["key"]}, ExpiresIn=60
    )
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in link
    fetched = requests.get(link, timeout=10)
    assert (fetched.status_code, fetched.content) == (200, content)
