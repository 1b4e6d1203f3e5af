"""The OpenAPI 3 document: a base plus one fragment per domain (openapi.yaml beside its api.py)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
FRAGMENTS = [ROOT / "openapi_base.yaml", *(ROOT / d / "openapi.yaml" for d in ("loyalty", "coupons", "tradein"))]


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
    return doc
