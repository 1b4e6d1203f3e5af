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

import importlib
import importlib.util
import sys
from types import ModuleType
from typing import Any


class _LazyModule(ModuleType):
    """Stands in for a module until an attribute is asked for, then imports it and answers from
    it. Not importlib's LazyLoader: before Python 3.12.3 that one is not thread-safe (a second
    thread asking during the first use sees a half-executed module: an AttributeError under
    `chalice local` and any threaded caller). `import_module` is: a second thread waits for the
    module to finish."""

    def __getattr__(self, attr: str) -> Any:  # only for what the stand-in itself does not have
        return getattr(importlib.import_module(self.__name__), attr)


def lazy_module(name: str) -> ModuleType:
    """`name`, imported at the first attribute access (the real module once it is loaded)."""
    if name in sys.modules:
        return sys.modules[name]
    if importlib.util.find_spec(name) is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    return _LazyModule(name)
