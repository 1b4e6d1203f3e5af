"""The web pages in the deploy template: a private bucket read only by CloudFront, HTTPS, security
headers, and the functions told the pages' URL (the e-mails link to volg.html there)."""

from __future__ import annotations

from typing import Any

import pytest

from infra import template


@pytest.fixture(scope="module")
def merged() -> dict[str, Any]:
    return template.build()


def test_the_pages_bucket_is_private_and_read_only_by_its_distribution(merged: dict[str, Any]) -> None:
    resources = merged["Resources"]
    block = resources["WebBucket"]["Properties"]["PublicAccessBlockConfiguration"]
    assert all(block.values())
    statement = resources["WebBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert statement["Action"] == "s3:GetObject"
    assert "${WebDistribution}" in statement["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    origin = resources["WebDistribution"]["Properties"]["DistributionConfig"]["Origins"][0]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["WebOriginAccessControl", "Id"]}


def test_the_distribution_is_https_only_with_security_headers(merged: dict[str, Any]) -> None:
    config = merged["Resources"]["WebDistribution"]["Properties"]["DistributionConfig"]
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["DefaultRootObject"] == "index.html"
    headers = merged["Resources"]["WebResponseHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]
    csp = headers["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    assert "script-src 'self';" in csp, "no script from anywhere else (no CDN)"
    assert merged["Outputs"]["WebUrl"]["Value"] == {"Fn::Sub": "https://${WebDistribution.DomainName}"}


@pytest.mark.rule("T6")
def test_every_function_knows_the_pages_url_for_the_email_links(merged: dict[str, Any]) -> None:
    for function, _role in template.FUNCTIONS:
        variables = merged["Resources"][function]["Properties"]["Environment"]["Variables"]
        assert variables["PUBLIC_WEB_URL"] == {"Fn::Sub": "https://${WebDistribution.DomainName}"}
