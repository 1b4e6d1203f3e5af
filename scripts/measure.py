"""Measure the deployment package and the handler's cold-start import (`make measure`).

    python scripts/measure.py build/package/deployment.zip [--json]

Size: the zip as uploaded and unzipped (Lambda's limits: 50 MB zipped for a direct upload,
250 MB unzipped), and the largest top-level entries. Cold start: `import app` from the unzipped
package in fresh interpreters that see nothing but the package and the standard library (as on
Lambda), with the prod stage's environment; the median of several runs, and the slowest imports
from `python -X importtime`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024
ZIPPED_LIMIT_MB = 50
UNZIPPED_LIMIT_MB = 250

# Runs inside the fresh interpreter (-S: no site-packages). The package comes first on sys.path;
# after it, like Lambda's runtime directory, what the runtime provides (boto3 and its deps).
TIMER = """
import sys, time
sys.path[:0] = [sys.argv[1]]
sys.path.append(sys.argv[2])
start = time.perf_counter()
import app
print(time.perf_counter() - start)
"""


def package_size(path: Path) -> dict[str, Any]:
    """Zipped and unzipped bytes, file count and the ten largest top-level entries (unzipped)."""
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    by_top: Counter[str] = Counter()
    for info in infos:
        by_top[info.filename.split("/", 1)[0]] += info.file_size
    unzipped = sum(info.file_size for info in infos)
    return {
        "zipped_bytes": path.stat().st_size,
        "unzipped_bytes": unzipped,
        "files": len(infos),
        "largest": [{"name": name, "bytes": size} for name, size in by_top.most_common(10)],
    }


def prod_environment() -> dict[str, str]:
    """The prod stage's variables, with stand-ins for what the template's parameters fill in."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
        "AWS_LAMBDA_FUNCTION_NAME": "measure-api-handler",
        "COGNITO_USER_POOL_ID": "eu-west-1_measure",
        "COGNITO_APP_CLIENT_ID": "measure",
        "PROOFS_BUCKET": "measure-proofs",
    }
    env.update(config.get("environment_variables", {}))
    env.update({k: v for k, v in config["stages"]["prod"]["environment_variables"].items() if v})
    env["POWERTOOLS_TRACE_DISABLED"] = "true"  # no X-Ray daemon here; the SDK is still imported
    return env


RUNTIME_PROVIDED = ("boto3", "s3transfer", "jmespath")  # in Lambda's Python runtime, not in our package


def runtime_dir(into: Path) -> str:
    """A stand-in for Lambda's runtime directory: only what the runtime itself provides."""
    import importlib

    into.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_PROVIDED:
        source = Path(importlib.import_module(name).__file__ or "").resolve().parent
        (into / name).symlink_to(source, target_is_directory=True)
    return str(into)


def cold_start(package_dir: Path, runs: int) -> dict[str, Any]:
    """Seconds to `import app` in fresh interpreters, and the slowest modules by cumulative time."""
    env = prod_environment()
    runtime = runtime_dir(package_dir.parent / "runtime")
    seconds = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-S", "-c", TIMER, str(package_dir), runtime],
            cwd=package_dir,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        seconds.append(float(out.stdout.strip().splitlines()[-1]))
    trace = subprocess.run(
        [sys.executable, "-S", "-X", "importtime", "-c", TIMER, str(package_dir), runtime],
        cwd=package_dir,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return {
        "import_seconds_median": statistics.median(seconds),
        "import_seconds_min": min(seconds),
        "runs": runs,
        "slowest_imports": slowest_imports(trace.stderr, 10),
    }


def slowest_imports(importtime_output: str, count: int) -> list[dict[str, Any]]:
    """Packages by cumulative import time (the largest cumulative of any of their modules)."""
    totals: dict[str, int] = {}
    for line in importtime_output.splitlines():
        parts = line[len("import time:") :].split("|") if line.startswith("import time:") else []
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        package = parts[2].strip().split(".", 1)[0]
        totals[package] = max(totals.get(package, 0), int(parts[1]))
    ranked = sorted(totals.items(), key=lambda item: item[1], reverse=True)[:count]
    return [{"module": name, "seconds": micros / 1_000_000} for name, micros in ranked]


def report(size: dict[str, Any], start: dict[str, Any]) -> str:
    lines = [
        "Deployment package",
        f"  zipped    {size['zipped_bytes'] / MB:7.1f} MB  (direct-upload limit {ZIPPED_LIMIT_MB} MB)",
        f"  unzipped  {size['unzipped_bytes'] / MB:7.1f} MB  (limit {UNZIPPED_LIMIT_MB} MB), {size['files']} files",
        "  largest entries (unzipped):",
        *(f"    {item['bytes'] / MB:6.1f} MB  {item['name']}" for item in size["largest"]),
        "Cold start: `import app` (prod environment, fresh interpreter)",
        f"  median    {start['import_seconds_median'] * 1000:7.0f} ms over {start['runs']} runs"
        f" (min {start['import_seconds_min'] * 1000:.0f} ms)",
        "  slowest top-level imports (cumulative):",
        *(f"    {item['seconds'] * 1000:6.0f} ms  {item['module']}" for item in start["slowest_imports"]),
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", type=Path, help="deployment.zip from `make package`")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args()
    size = package_size(args.package)
    with tempfile.TemporaryDirectory(prefix="lambda-") as tmp:
        task = Path(tmp) / "task"
        with zipfile.ZipFile(args.package) as archive:
            archive.extractall(task)
        start = cold_start(task, args.runs)
    if args.json:
        print(json.dumps({"package": size, "cold_start": start}, indent=2))
    else:
        print(report(size, start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
