"""The Lambda artefacts (scripts/lambda_package.py): the layer on every function, and the check
that no shared library needs a library that is neither bundled nor in Lambda's base image."""

from __future__ import annotations

import _json
import _ssl
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from infra import template
from scripts.lambda_package import (
    PIP_PLATFORM,
    RUNTIME_PROVIDED,
    check_shared_libraries,
    needed_libraries,
    slim_holidays,
)

ROOT = Path(__file__).resolve().parents[2]


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
    requirements = (ROOT / "requirements.txt").read_text().lower()
    assert "boto3" not in requirements and "botocore" not in requirements


# Run in a fresh interpreter that sees only the slimmed layer: the Dutch holidays of some years.
DUTCH_HOLIDAYS = """
import json, sys
sys.path[:0] = sys.argv[1:2]
import holidays
years = range(2024, 2031)
nl = {day.isoformat(): name for day, name in holidays.NL(years=years).items()}
assert nl == {d.isoformat(): n for d, n in holidays.country_holidays("NL", years=years).items()}
try:
    holidays.DE(years=2026)
    other = "loaded"
except ImportError:
    other = "absent"
print(json.dumps({"nl": nl, "other": other}))
"""


def test_the_slimmed_holidays_in_the_layer_know_the_dutch_holidays(tmp_path: Path) -> None:
    """Only the NL calendar is kept (scripts/lambda_package.py slim_holidays); its answers are the
    full library's, from Lambda's wheel of the pinned version."""
    import holidays

    pin = next(line for line in (ROOT / "requirements.txt").read_text().splitlines() if line.startswith("holidays=="))
    layer = tmp_path / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", *PIP_PLATFORM, "--target", str(layer), pin],
        check=True,
    )  # fmt: skip
    kept = slim_holidays(layer)
    assert "holidays.countries.netherlands" in kept
    assert not (layer / "holidays" / "countries" / "germany.py").exists()
    assert len(list((layer / "holidays" / "countries").glob("*.py"))) == 2  # __init__ and netherlands
    out = subprocess.run(
        [sys.executable, "-S", "-c", DUTCH_HOLIDAYS, str(layer)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    answer = json.loads(out.stdout)
    full = {day.isoformat(): name for day, name in holidays.NL(years=range(2024, 2031)).items()}
    assert answer == {"nl": full, "other": "absent"}
    # G3's calendar, by hand: 2026's Dutch public holidays.
    assert sorted(day for day in answer["nl"] if day.startswith("2026")) == [
        "2026-01-01", "2026-04-03", "2026-04-05", "2026-04-06", "2026-04-27", "2026-05-14", "2026-05-24",
        "2026-05-25", "2026-12-25", "2026-12-26",
    ]  # fmt: skip
