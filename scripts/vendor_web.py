"""`make vendor`: the third-party files of the web pages, from the npm registry, pinned.

web/vendor/package.json + package-lock.json pin the exact versions (and their integrity hashes).
This script installs them into build/web-vendor with `npm ci --ignore-scripts` (no install
scripts run, so no telemetry) and copies only the files the pages use, with their licences, into
web/vendor/ (served with the pages) and tests/browser/vendor/ (axe-core: tests only, never
deployed). The copies are committed, so `make run` and CI need no npm; rerun this after changing
a version and commit the result. web/vendor/VERSIONS.json records what was copied.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK_DIR = ROOT / "web" / "vendor"
BUILD = ROOT / "build" / "web-vendor"

# package -> [(file inside the package, destination)]
FILES: dict[str, list[tuple[str, Path]]] = {
    "qrcode-generator": [("dist/qrcode.js", ROOT / "web/vendor/qrcode-generator/qrcode.js")],
    "swagger-ui-dist": [
        ("swagger-ui-bundle.js", ROOT / "web/vendor/swagger-ui/swagger-ui-bundle.js"),
        ("swagger-ui.css", ROOT / "web/vendor/swagger-ui/swagger-ui.css"),
        ("LICENSE", ROOT / "web/vendor/swagger-ui/LICENSE"),
        ("NOTICE", ROOT / "web/vendor/swagger-ui/NOTICE"),
        ("swagger-ui-bundle.js.LICENSE.txt", ROOT / "web/vendor/swagger-ui/swagger-ui-bundle.js.LICENSE.txt"),
    ],
    "axe-core": [
        ("axe.min.js", ROOT / "tests/browser/vendor/axe-core/axe.min.js"),
        ("LICENSE", ROOT / "tests/browser/vendor/axe-core/LICENSE"),
        ("LICENSE-3RD-PARTY.txt", ROOT / "tests/browser/vendor/axe-core/LICENSE-3RD-PARTY.txt"),
    ],
}


def main() -> int:
    npm = shutil.which("npm")
    if npm is None:
        print("npm is not installed (apt-get install -y npm); the committed copies in web/vendor still work")
        return 1
    shutil.rmtree(BUILD, ignore_errors=True)
    BUILD.mkdir(parents=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(LOCK_DIR / name, BUILD / name)
    subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=BUILD, check=True)
    versions: dict[str, dict[str, str]] = {}
    for package, files in FILES.items():
        meta = json.loads((BUILD / "node_modules" / package / "package.json").read_text())
        versions[package] = {"version": meta["version"], "license": meta["license"]}
        for source, target in files:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(BUILD / "node_modules" / package / source, target)
            print(f"{package}@{meta['version']}: {target.relative_to(ROOT)}")
    # qrcode-generator ships its MIT licence only in the source header and package.json
    header = (ROOT / "web/vendor/qrcode-generator/qrcode.js").read_text().split("\n")[:12]
    (ROOT / "web/vendor/qrcode-generator/LICENSE").write_text(
        "qrcode-generator (npm), licensed under the MIT licence: http://www.opensource.org/licenses/mit-license.php\n\n"
        + "\n".join(header)
        + "\n"
    )
    (LOCK_DIR / "VERSIONS.json").write_text(json.dumps(versions, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
