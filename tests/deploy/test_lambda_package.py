"""The Lambda artefacts (scripts/lambda_package.py): the layer on every function, and the check
that no shared library needs a library that is neither bundled nor in Lambda's base image."""

from __future__ import annotations

import _json
import _ssl
from pathlib import Path
from typing import Any

from infra import template
from scripts.lambda_package import RUNTIME_PROVIDED, check_shared_libraries, needed_libraries


def _file(module: Any) -> tuple[str, bytes]:
    path = Path(module.__file__)
    return f"python/{path.name}", path.read_bytes()


def test_an_extension_linking_only_glibc_passes_and_one_needing_openssl_fails() -> None:
    json_ext, ssl_ext = _file(_json), _file(_ssl)
    assert needed_libraries(json_ext[1]) is not None
    assert check_shared_libraries([json_ext]) == []
    problems = check_shared_libraries([ssl_ext])
    assert problems and all("libssl" in p or "libcrypto" in p for p in problems)


def test_a_library_bundled_beside_the_extension_satisfies_it() -> None:
    ssl_ext = _file(_ssl)
    bundled = [(f"python/ssl.libs/{name}", b"") for name in needed_libraries(ssl_ext[1]) or []]
    assert check_shared_libraries([ssl_ext, *bundled]) == []


def test_every_function_runs_with_the_dependencies_layer() -> None:
    merged = template.build()
    layer = merged["Resources"][template.DEPENDENCIES_LAYER]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Properties"]["ContentUri"] == "./layer.zip"
    assert layer["Properties"]["CompatibleRuntimes"] == [template.LAMBDA_RUNTIME]
    for function, _role in template.FUNCTIONS:
        assert merged["Resources"][function]["Properties"]["Layers"] == [{"Ref": template.DEPENDENCIES_LAYER}]


def test_the_aws_sdk_is_left_to_the_runtime() -> None:
    assert {"boto3", "botocore"} <= RUNTIME_PROVIDED
    requirements = (Path(__file__).resolve().parents[2] / "requirements.txt").read_text().lower()
    assert "boto3" not in requirements and "botocore" not in requirements
