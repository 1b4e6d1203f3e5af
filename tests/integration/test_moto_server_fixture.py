"""The moto-server fixture really serves the provisioned resources over HTTP."""

from chalicelib.config import settings
from chalicelib.db import client


def test_moto_server_has_the_bucket(moto_server):
    assert client("s3")._endpoint.host == moto_server
    names = [b["Name"] for b in client("s3").list_buckets()["Buckets"]]
    assert settings().proofs_bucket in names
