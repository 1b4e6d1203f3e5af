"""Modules loaded at their first use, so that a cold start pays only for what it runs.

`import app` registers every route of every function, but one request runs one route: the
services behind the routes (and PynamoDB, boto3 and the models under them) are bound with
`lazy_module` and load when a route first calls into them. Callers keep the real import under
`TYPE_CHECKING`, so that mypy, import-linter and tests/unit/test_architecture.py still see it:

    if TYPE_CHECKING:
        from chalicelib.loyalty import accounts
    else:
        accounts = lazy_module("chalicelib.loyalty.accounts")
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """`name`, executed at the first attribute access (importlib's documented LazyLoader recipe)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)  # as `import parent.child` would
    return module
