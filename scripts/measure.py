"""Measure the deployment package and the handler's cold-start import (`make measure`).

    python scripts/measure.py build/package [--json]

Size per artefact (deployment.zip = function code, layer.zip = dependencies): zipped and unzipped
(Lambda's limits: 50 MB zipped for a direct upload, 250 MB unzipped for code and layers
together), and the largest packages. Cold start: `import app` from the unzipped artefacts in
fresh interpreters that see nothing but the code, the layer, the runtime's SDK and the standard
library (as on Lambda), with the prod stage's environment, against `import boto3, chalice` in the
same setting (median of several interleaved runs); the slowest imports from `python -X
importtime`. First request: in the same fresh interpreter, the first DynamoDB client and the
first PynamoDB model call, after `import app` (against moto's server in another process).
"""

from __future__ import annotations

import argparse
import importlib
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
sys.path[:0] = sys.argv[1:3]
sys.path.append(sys.argv[3])
start = time.perf_counter()
import app
print(time.perf_counter() - start)
"""
BASELINE = TIMER.replace("import app", "import boto3, chalice")
# After `import app`, what the first request loads and does: the first DynamoDB client (boto3 and
# botocore are loaded at first use, not by `import app`) and the first PynamoDB model (its module,
# PynamoDB, the connection and the query). DynamoDB is moto's server in another process
# (AWS_ENDPOINT_URL), so nothing of moto's is loaded into the timed interpreter.
FIRST_REQUEST = """
import sys, time
sys.path[:0] = sys.argv[1:3]
sys.path.append(sys.argv[3])
import app
start = time.perf_counter()
from chalicelib import db
assert db.client("dynamodb").list_tables()["TableNames"]
client_done = time.perf_counter()
from chalicelib.loyalty.models import MemberModel
MemberModel.count("measure-member")
done = time.perf_counter()
print(client_done - start, done - client_done)
"""
PROVISION = """
import sys
sys.path[:0] = sys.argv[1:3]
sys.path.append(sys.argv[3])
from chalicelib import provision
provision.provision()
"""


def package_size(path: Path) -> dict[str, Any]:
    """Zipped and unzipped bytes, file count and the ten largest top-level entries (unzipped)."""
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    by_top: Counter[str] = Counter()
    for info in infos:
        parts = info.filename.split("/")
        by_top[parts[1] if parts[0] == "python" and len(parts) > 2 else parts[0]] += info.file_size
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


# In Lambda's Python runtime, not in our artefacts (scripts/lambda_package.py RUNTIME_PROVIDED).
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3")


def runtime_dir(into: Path) -> str:
    """A stand-in for Lambda's runtime directory: only what the runtime itself provides."""
    into.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_PROVIDED:
        source = Path(importlib.import_module(name).__file__ or "").resolve().parent
        (into / name).symlink_to(source, target_is_directory=True)
    return str(into)


def _seconds(script: str, dirs: list[str], env: dict[str, str], cwd: Path) -> list[float]:
    out = subprocess.run(
        [sys.executable, "-S", "-c", script, *dirs], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if out.returncode:
        raise RuntimeError(out.stderr)
    return [float(x) for x in out.stdout.strip().splitlines()[-1].split()]


def cold_start(code: Path, layer: Path, runs: int) -> dict[str, Any]:
    """`import app` against `import boto3, chalice` in fresh interpreters (interleaved runs), the
    slowest modules by cumulative time, and the first request's DynamoDB client and model call."""
    env = prod_environment()
    dirs = [str(code), str(layer), runtime_dir(code.parent / "runtime")]
    app_s, base_s = [], []
    for _ in range(runs):
        app_s += _seconds(TIMER, dirs, env, code)
        base_s += _seconds(BASELINE, dirs, env, code)
    trace = subprocess.run(
        [sys.executable, "-S", "-X", "importtime", "-c", TIMER, *dirs],
        cwd=code, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    first = first_requests(dirs, env, code, 3)
    return {
        "import_seconds_median": statistics.median(app_s),
        "import_seconds_min": min(app_s),
        "baseline_seconds_median": statistics.median(base_s),
        "ratio": statistics.median(app_s) / statistics.median(base_s),
        "runs": runs,
        "first_client_seconds": statistics.median(f[0] for f in first),
        "first_model_seconds": statistics.median(f[1] for f in first),
        "slowest_imports": slowest_imports(trace.stderr, 10),
    }


def first_requests(dirs: list[str], env: dict[str, str], cwd: Path, runs: int) -> list[list[float]]:
    """FIRST_REQUEST in fresh interpreters against moto's server, the tables provisioned first."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # its line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        aws = {"AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "measure",
               "AWS_SECRET_ACCESS_KEY": "measure"}  # fmt: skip
        _seconds(PROVISION + "print(0)", dirs, {**env, **aws}, cwd)
        return [_seconds(FIRST_REQUEST, dirs, {**env, **aws}, cwd) for _ in range(runs)]
    finally:
        server.stop()


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


def report(sizes: dict[str, dict[str, Any]], start: dict[str, Any]) -> str:
    total = sum(size["zipped_bytes"] for size in sizes.values())
    lines = []
    for name, size in sizes.items():
        lines += [
            f"{name}",
            f"  zipped    {size['zipped_bytes'] / MB:7.2f} MB",
            f"  unzipped  {size['unzipped_bytes'] / MB:7.2f} MB, {size['files']} files",
            "  largest packages (unzipped):",
            *(f"    {item['bytes'] / MB:6.2f} MB  {item['name']}" for item in size["largest"]),
        ]
    unzipped = sum(size["unzipped_bytes"] for size in sizes.values())
    lines += [
        f"All the functions load: {total / MB:.2f} MB zipped (target 15, direct-upload limit {ZIPPED_LIMIT_MB}),"
        f" {unzipped / MB:.1f} MB unzipped (limit {UNZIPPED_LIMIT_MB})",
        "Cold start (prod environment, fresh interpreter, code + layer + runtime SDK)",
        f"  import app             {start['import_seconds_median'] * 1000:6.0f} ms median of {start['runs']}"
        f" (min {start['import_seconds_min'] * 1000:.0f} ms)",
        f"  import boto3, chalice  {start['baseline_seconds_median'] * 1000:6.0f} ms median",
        f"  ratio                  {start['ratio']:6.2f}  (target <= 1.5)",
        "First request (after import app; DynamoDB: moto's server)",
        f"  first DynamoDB client  {start['first_client_seconds'] * 1000:6.0f} ms (import boto3 + client + first call)",
        f"  first PynamoDB model   {start['first_model_seconds'] * 1000:6.0f} ms (import model + connection + query)",
        "  slowest top-level imports of `import app` (cumulative):",
        *(f"    {item['seconds'] * 1000:6.0f} ms  {item['module']}" for item in start["slowest_imports"]),
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", type=Path, help="build/package from `make package`")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args()
    artefacts = {"deployment.zip (function code)": "deployment.zip", "layer.zip (dependencies)": "layer.zip"}
    sizes = {name: package_size(args.package / file) for name, file in artefacts.items()}
    with tempfile.TemporaryDirectory(prefix="lambda-") as tmp:
        task, opt = Path(tmp) / "task", Path(tmp) / "opt"
        for file, into in (("deployment.zip", task), ("layer.zip", opt)):
            with zipfile.ZipFile(args.package / file) as archive:
                archive.extractall(into)
        start = cold_start(task, opt / "python", args.runs)
    if args.json:
        print(json.dumps({"package": sizes, "cold_start": start}, indent=2))
    else:
        print(report(sizes, start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
