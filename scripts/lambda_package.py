"""Build the Lambda artefacts (`make package`): the dependencies layer and the function code.

    python scripts/lambda_package.py build/merge.json build/package

1. **Layer** (`build/package/layer.zip`, `python/...`): the runtime requirements resolved for
   Lambda's platform only: manylinux2014 x86_64 wheels for CPython 3.11 (`--only-binary=:all:`,
   so nothing is ever compiled on the build machine; a requirement without such a wheel fails the
   build). The AWS SDK (boto3, botocore, s3transfer, jmespath, urllib3) is left out: Lambda's
   Python runtime provides it. Byte code is compiled ahead (unchecked-hash .pyc): /opt is
   read-only on Lambda, so uncompiled sources would be compiled again on every cold start.
2. **Function code** (`build/package/deployment.zip` + `sam.json`): `chalice package` of a copy of
   the app with an empty requirements.txt, so the zip holds app.py and chalicelib only; its .pyc
   are added the same way.
3. **Check**: every shared library in both zips may need only libraries that are bundled or part
   of Lambda's base image (`check_shared_libraries`), and the function code stays under 1 MB.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile

ROOT = Path(__file__).resolve().parent.parent
PYTHON_VERSION = "3.11"  # Lambda runtime python3.11 (Amazon Linux 2, glibc 2.26)
PLATFORM = "manylinux2014_x86_64"
PIP_PLATFORM = [
    "--platform", PLATFORM, "--only-binary=:all:", "--python-version", PYTHON_VERSION,
    "--implementation", "cp", "--abi", "cp" + PYTHON_VERSION.replace(".", ""),
]  # fmt: skip
# In Lambda's Python runtime already (and kept at the runtime's version, not vendored).
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "urllib3"})
# What a manylinux2014 extension may link against that Lambda's base image has (glibc & co).
LAMBDA_BASE_LIBRARIES = frozenset(
    {
        "libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1", "libutil.so.1",
        "libgcc_s.so.1", "libstdc++.so.6", "ld-linux-x86-64.so.2", "libcrypt.so.1", "libresolv.so.2",
    }
)  # fmt: skip
# Files of the wheels that nothing of ours loads, left out of the layer (the smoke run proves the
# layer still works): translations of holiday names (only the dates are used), stdnum's lookup
# tables for MAC addresses/IMSIs/postcodes (only iban/bic are used), the libyaml binding
# (`yaml.safe_load` is the pure-Python loader), the Powertools utilities we do not use (we use
# Logger, Metrics and Tracer).
PRUNE = (
    "holidays/locale", "stdnum/oui.dat", "stdnum/imsi.dat", "stdnum/cn/loc.dat", "stdnum/at/postleitzahl.dat",
    "aws_lambda_powertools/event_handler", *(f"aws_lambda_powertools/utilities/{name}" for name in (
        "data_classes", "parser", "auth_alpha", "idempotency", "parameters", "kafka", "batch", "feature_flags",
        "streaming", "validation", "data_masking",
    )),
)  # fmt: skip
PRUNE_GLOBS = ("yaml/_yaml.*.so",)
# The holiday calendars we use (G3: Dutch working days). `holidays` registers ~250 countries by
# name and imports a country's module at first use, but its package __init__ files import every
# country, financial market, lunar calendar and holiday group: `slim_holidays` keeps the modules
# these countries need and rewrites those __init__ files to import only them.
HOLIDAY_COUNTRIES = ("netherlands",)
HOLIDAY_PACKAGES = ("countries", "financial", "calendars", "groups")
APP_FILES = ("app.py", "chalicelib")
# Run in a fresh interpreter that sees only the function code, the layer and the runtime's SDK:
# import the app and use every lazily imported library once; print the files of what got loaded.
SMOKE = """
import json, sys
sys.path[:0] = sys.argv[1:3]
sys.path.append(sys.argv[3])
from datetime import date
import app
from chalicelib import openapi
assert openapi.BUILT.exists() and openapi.document()["openapi"] == "3.1.0"
assert "chalicelib.loyalty.contract" not in sys.modules, "the served document imported its generator"
import importlib, pkgutil, chalicelib
for found in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):  # also what routes load lazily
    getattr(importlib.import_module(found.name), "__doc__")  # an attribute: a lazy module executes
from chalicelib import auth
from chalicelib.observability import tracer
from chalicelib.tradein import documents, sepa, workdays
assert workdays.is_working_day(date(2026, 4, 28)) and not workdays.is_working_day(date(2026, 4, 27))
tracer.get()
token = auth.mint_dev_token("smoke", secret="x" * 32)
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
jwt.decode(token, "x" * 32, algorithms=["HS256"])
jwt.algorithms.RSAAlgorithm(jwt.algorithms.RSAAlgorithm.SHA256).prepare_key(
    rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
)
label = documents.ShippingLabel("K1", "C", "S", ("a",), ("b",), documents.tracking_code("K1"), date(2026, 1, 5),
                                date(2026, 1, 20))
assert documents.shipping_label_pdf(label).startswith(b"%PDF-")
debtor = sepa.Debtor("Org", "NL91ABNA0417164300", "ABNANL2A")
payment = sepa.Payment("K1", "Name", "NL91ABNA0417164300", 100, "x")
assert sepa.pain001("b1", date(2026, 1, 5), debtor, [payment])
print(json.dumps(sorted({getattr(m, "__file__", None) or "" for m in list(sys.modules.values())} - {""})))
"""
FUNCTION_CODE_LIMIT = 1024 * 1024


def run(command: list[str], **kwargs: object) -> None:
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True, **kwargs)  # type: ignore[call-overload]


def resolve(requirements: Path, work: Path) -> list[str]:
    """`name==version` of every package the requirements need on Lambda, minus the runtime's SDK."""
    report = work / "resolve.json"
    run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--dry-run", "--ignore-installed",
         *PIP_PLATFORM, "--target", str(work / "dry"), "--report", str(report), "-r", str(requirements)]
    )  # fmt: skip
    pins = []
    for item in json.loads(report.read_text())["install"]:
        name, version = item["metadata"]["name"], item["metadata"]["version"]
        if name.lower().replace("_", "-") not in RUNTIME_PROVIDED:
            pins.append(f"{name}=={version}")
    return sorted(pins, key=str.lower)


def build_layer(requirements: Path, target: Path, work: Path) -> list[str]:
    pins = resolve(requirements, work)
    run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile", *PIP_PLATFORM,
         "--target", str(target), *pins]
    )  # fmt: skip
    for junk in [target / "bin", *(target / p for p in PRUNE), *(f for g in PRUNE_GLOBS for f in target.glob(g))]:
        if junk.is_dir():
            shutil.rmtree(junk)
        elif junk.exists():
            junk.unlink()
    for junk in [*target.glob("*/tests"), *target.glob("*/__pycache__")]:  # wheels' own tests, stray byte code
        shutil.rmtree(junk)
    slim_holidays(target)
    return pins


def _holidays_imports(path: Path, exports: dict[str, dict[str, str]]) -> set[str]:
    """The holidays modules `path` imports (a name from a package's __init__ is its module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("holidays"):
            package = (node.module or "").removeprefix("holidays.")
            if package in exports:
                found |= {exports[package][alias.name] for alias in node.names if alias.name in exports[package]}
            else:
                found.add(node.module or "")
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("holidays.")}
    return found


def slim_holidays(target: Path, countries: Iterable[str] = HOLIDAY_COUNTRIES) -> set[str]:
    """Keep of `holidays` its core and what `countries` need; answer the kept sub-package modules."""
    root = target / "holidays"
    inits = {package: root / package / "__init__.py" for package in HOLIDAY_PACKAGES}
    exports = {
        package: {alias.asname or alias.name: node.module or "" for node in ast.parse(init.read_text()).body
                  if isinstance(node, ast.ImportFrom) for alias in node.names}
        for package, init in inits.items()
    }  # fmt: skip
    core = [p for p in root.rglob("*.py") if p.parent.name not in HOLIDAY_PACKAGES]
    todo = [f"holidays.countries.{name}" for name in countries]
    for path in core:
        todo += _holidays_imports(path, exports)
    kept: set[str] = set()
    while todo:
        module = todo.pop()
        path = root.parent / (module.replace(".", "/") + ".py")
        if module in kept or not path.is_file():
            continue
        kept.add(module)
        todo += _holidays_imports(path, exports)
    for package, init in inits.items():
        for path in init.parent.glob("*.py"):
            if path != init and f"holidays.{package}.{path.stem}" not in kept:
                path.unlink()
        tree = ast.parse(init.read_text())
        tree.body = [n for n in tree.body if not isinstance(n, ast.ImportFrom) or n.module in kept]
        init.write_text(
            "# Slimmed by scripts/lambda_package.py: only what HOLIDAY_COUNTRIES need.\n" + ast.unparse(tree)
        )
    return {m for m in kept if m.count(".") == 2}


def smoke(code: Path, layer: Path, work: Path) -> list[Path]:
    """Run SMOKE against the artefacts (fails the build when they do not work); the loaded files."""
    runtime = runtime_sdk(work / "runtime")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "AWS_DEFAULT_REGION": "eu-west-1", **stage_env()}
    out = subprocess.run(
        [sys.executable, "-S", "-c", SMOKE, str(code), str(layer), runtime],
        cwd=code, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if out.returncode:
        raise SystemExit(f"the packaged app does not run:\n{out.stderr}")
    return [Path(f) for f in json.loads(out.stdout.strip().splitlines()[-1])]


def runtime_sdk(into: Path) -> str:
    """A stand-in for Lambda's runtime directory: the SDK it provides (from this venv)."""
    import importlib

    into.mkdir(parents=True, exist_ok=True)
    for name in sorted(RUNTIME_PROVIDED):
        source = Path(importlib.import_module(name).__file__ or "").resolve().parent
        (into / name).symlink_to(source, target_is_directory=True)
    return str(into)


def stage_env(stage: str = "prod") -> dict[str, str]:
    """The stage's environment, with stand-ins for what the template's parameters fill in."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = {"COGNITO_USER_POOL_ID": "eu-west-1_package", "COGNITO_APP_CLIENT_ID": "package", "PROOFS_BUCKET": "p"}
    env.update(config.get("environment_variables", {}))
    env.update({k: v for k, v in config["stages"][stage]["environment_variables"].items() if v})
    env["POWERTOOLS_TRACE_DISABLED"] = "true"  # no X-Ray daemon here; the SDK is still loaded
    return env


def compile_loaded(trees: Iterable[Path], loaded: Iterable[Path]) -> int:
    """.pyc of the modules the functions load (from the smoke run), valid without checking the
    source's mtime (the zip drops it). Other modules stay source only, to keep the layer small."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" != PYTHON_VERSION:
        print(f"warning: building with Python {sys.version.split()[0]}: no .pyc for {PYTHON_VERSION}", file=sys.stderr)
        return 0
    roots = [tree.resolve() for tree in trees]
    count = 0
    for path in loaded:
        path = path.resolve()
        root = next((r for r in roots if path.is_relative_to(r)), None)
        if root is None or path.suffix != ".py":
            continue
        py_compile.compile(
            str(path),
            cfile=importlib.util.cache_from_source(str(path)),
            dfile=str(path.relative_to(root)),
            doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        count += 1
    return count


def write_zip(tree: Path, out: Path) -> None:
    """A deterministic zip of `tree` (sorted entries, fixed timestamps)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(p for p in tree.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(tree).as_posix(), date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if os.access(path, os.X_OK) else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)


def stage_app(into: Path) -> None:
    """A copy of the Chalice project whose requirements.txt is empty (dependencies are in the layer)."""
    for name in APP_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, into / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, into / name)
    (into / ".chalice").mkdir()
    shutil.copy2(ROOT / ".chalice" / "config.json", into / ".chalice" / "config.json")
    shutil.copytree(ROOT / "infra" / "iam", into / "infra" / "iam")  # the config's iam_policy_file paths
    (into / "requirements.txt").write_text("# dependencies: build/package/layer.zip\n")
    build_openapi(into / "chalicelib" / "openapi.json")


# Generated from the contract in a fresh interpreter (the app reads its settings at import).
OPENAPI = (
    "import json, sys; from chalicelib.openapi import generate; open(sys.argv[1], 'w').write(json.dumps(generate()))"
)


def build_openapi(target: Path) -> None:
    """The OpenAPI document as a file of the function package: GET /openapi.json serves it, so no
    cold start imports the generator (chalicelib.openapi.document)."""
    env = {**os.environ, "AWS_DEFAULT_REGION": "eu-west-1", **stage_env()}
    run([sys.executable, "-c", OPENAPI, str(target)], cwd=ROOT, env=env)


def package_function(merge_template: Path, out_dir: Path, work: Path) -> Path:
    app = work / "app"
    app.mkdir()
    stage_app(app)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    chalice = Path(sys.executable).parent / "chalice"
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "eu-west-1")}
    run(
        [str(chalice), "--project-dir", str(app), "package", "--stage", "prod",
         "--merge-template", str(merge_template.resolve()), str(out_dir.resolve())],
        env=env,
    )  # fmt: skip
    code = work / "code"
    with zipfile.ZipFile(out_dir / "deployment.zip") as archive:
        archive.extractall(code)
    return code


def _members(path: Path) -> Iterator[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.is_dir():
                yield info.filename, archive.read(info)


def needed_libraries(data: bytes) -> list[str] | None:
    """The DT_NEEDED entries of an ELF shared object, or None when `data` is no ELF file."""
    if not data.startswith(b"\x7fELF"):
        return None
    import io

    elf = ELFFile(io.BytesIO(data))
    needed = []
    for section in elf.iter_sections():
        if isinstance(section, DynamicSection):
            # pyelftools sets `needed` with setattr, from the tag's name, so its types do not list it.
            needed += [tag.needed for tag in section.iter_tags() if tag.entry.d_tag == "DT_NEEDED"]  # type: ignore[attr-defined]
    return needed


def check_shared_libraries(files: Iterable[tuple[str, bytes]]) -> list[str]:
    """Problems: shared libraries that need a library neither bundled nor in Lambda's base image."""
    elves: dict[str, list[str]] = {}
    names: set[str] = set()
    for name, data in files:
        names.add(name.rsplit("/", 1)[-1])
        needed = needed_libraries(data) if ".so" in name.rsplit("/", 1)[-1] else None
        if needed is not None:
            elves[name] = needed
    return [
        f"{name} needs {library}: neither bundled nor in Lambda's base image"
        for name, needed in sorted(elves.items())
        for library in needed
        if library not in LAMBDA_BASE_LIBRARIES and library not in names
    ]


def check(out_dir: Path) -> list[str]:
    problems = []
    for artefact in ("layer.zip", "deployment.zip"):
        problems += [f"{artefact}: {p}" for p in check_shared_libraries(_members(out_dir / artefact))]
    code = (out_dir / "deployment.zip").stat().st_size
    if code > FUNCTION_CODE_LIMIT:
        problems.append(f"deployment.zip: the function code is {code} bytes, over {FUNCTION_CODE_LIMIT}")
    if "chalicelib/openapi.json" not in dict(_members(out_dir / "deployment.zip")):
        problems.append("deployment.zip: chalicelib/openapi.json (the built OpenAPI document) is missing")
    vendored = {name.split("/")[1] for name, _ in _members(out_dir / "layer.zip") if name.count("/") > 1}
    problems += [f"layer.zip: vendors {name}, which the runtime provides" for name in vendored & RUNTIME_PROVIDED]
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python scripts/lambda_package.py MERGE_TEMPLATE.json OUT_DIR", file=sys.stderr)
        return 2
    merge_template, out_dir = Path(argv[1]), Path(argv[2])
    with tempfile.TemporaryDirectory(prefix="lambda-package-") as tmp:
        work = Path(tmp)
        code = package_function(merge_template, out_dir, work)
        layer = work / "layer" / "python"
        pins = build_layer(ROOT / "requirements.txt", layer, work)
        compiled = compile_loaded([code, layer], smoke(code, layer, work))
        print(f"compiled {compiled} modules the functions load")
        # Chalice's zip, rewritten with the byte code (deterministic), and the layer.
        write_zip(code, out_dir / "deployment.zip")
        write_zip(layer.parent, out_dir / "layer.zip")
    (out_dir / "layer-requirements.txt").write_text("\n".join(pins) + "\n")
    problems = check(out_dir)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"packaged: {out_dir}/sam.json + deployment.zip (function code) + layer.zip ({len(pins)} packages)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
