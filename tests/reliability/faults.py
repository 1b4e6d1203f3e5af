"""Fault injection at the k-th AWS call, through botocore's events on every session made by
`chalicelib.db.botocore_session()` (boto3 clients and PynamoDB alike, as scripts/request_count.py).

Two forms: `before` fails the call before it is sent (nothing happened), `after` sends it, lets
AWS apply it, then fails as if the answer had been lost (a timeout after the write took effect).
"""

from __future__ import annotations

from typing import Any

import botocore.handlers
from botocore.exceptions import EndpointConnectionError

FORMS = ("before", "after")


class InjectedFault(EndpointConnectionError):
    pass


class Faults:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.fail_at: int | None = None
        self.form = "before"
        self.fired = False

    def arm(self, k: int | None, form: str = "before") -> None:
        self.calls, self.fail_at, self.form, self.fired = [], k, form, False

    def _before(self, event_name: str = "", **_: Any) -> None:
        self.calls.append(event_name.removeprefix("before-call."))
        if self.fail_at == len(self.calls) and self.form == "before":
            self.fired = True
            raise InjectedFault(endpoint_url=f"injected before call {len(self.calls)}")

    def _after(self, event_name: str = "", **_: Any) -> None:
        if self.fail_at == len(self.calls) and self.form == "after" and not self.fired:
            self.fired = True
            raise InjectedFault(endpoint_url=f"injected after call {len(self.calls)}")


FAULTS = Faults()
_HOOKS = [("before-call", FAULTS._before), ("after-call", FAULTS._after)]


def install() -> Faults:
    if _HOOKS[0] not in botocore.handlers.BUILTIN_HANDLERS:
        botocore.handlers.BUILTIN_HANDLERS.extend(_HOOKS)
        from chalicelib.tables import reset_connections

        reset_connections()
    FAULTS.arm(None)
    return FAULTS
