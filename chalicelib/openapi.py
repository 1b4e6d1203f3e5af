"""The OpenAPI 3 document: a base plus one fragment per domain (openapi.yaml beside its api.py)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
FRAGMENTS = [
    ROOT / "openapi_base.yaml",
    *(ROOT / d / "openapi.yaml" for d in ("loyalty", "coupons", "tradein", "reconciliation")),
]


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """Merge the base document and the domains' fragments (paths and components)."""
    import yaml  # only GET /openapi.json reads the document

    doc: dict[str, Any] = {}
    for path in FRAGMENTS:
        if not path.exists():
            continue
        part = yaml.safe_load(path.read_text()) or {}
        for key, value in part.items():
            if key == "paths":
                doc.setdefault("paths", {}).update(value)
            elif key == "components":
                for section, entries in value.items():
                    doc.setdefault("components", {}).setdefault(section, {}).update(entries)
            elif key == "tags":
                doc.setdefault("tags", []).extend(value)
            else:
                doc.setdefault(key, value)
    _add_common_errors(doc)
    return doc


# Answers any operation can give, whatever its fragment lists (chalicelib.http makes them).
COMMON_ERRORS = {"405": "MethodNotAllowed", "500": "Internal"}
BODY_ERRORS = {"400": "BadRequest", "413": "PayloadTooLarge", "415": "UnsupportedMediaType"}


def _add_common_errors(doc: dict[str, Any]) -> None:
    for operations in doc.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            extra = {**COMMON_ERRORS, **(BODY_ERRORS if method in ("post", "put", "patch") else {})}
            for status, name in extra.items():
                operation["responses"].setdefault(status, {"$ref": f"#/components/responses/{name}"})
