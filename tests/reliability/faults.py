"""Fault injection at the k-th AWS call, through botocore's events on every session made by
`chalicelib.db.botocore_session()` (boto3 clients and PynamoDB alike, as scripts/request_count.py).

Two forms: `before` fails the call before it is sent (nothing happened), `after` sends it, lets
AWS apply it, then fails as if the answer had been lost (a timeout after the write took effect).
Two more, `die-before` and `die-after`, end the process there (`os._exit(137)`, as a Lambda
killed by its timeout or out of memory): no exception handler, `finally` or flush runs. They are
meant for a forked child against moto's server (`die_in_child`), whose state outlives the child.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import botocore.handlers
from botocore.exceptions import EndpointConnectionError

FORMS = ("before", "after")
DEATHS = ("die-before", "die-after")
KILLED = 137  # the exit status of a process killed by SIGKILL, as the shell shows it


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
        if self.fail_at == len(self.calls) and self.form == "die-before":
            os._exit(KILLED)

    def _after(self, event_name: str = "", **_: Any) -> None:
        if self.fail_at == len(self.calls) and self.form == "after" and not self.fired:
            self.fired = True
            raise InjectedFault(endpoint_url=f"injected after call {len(self.calls)}")
        if self.fail_at == len(self.calls) and self.form == "die-after":
            os._exit(KILLED)


FAULTS = Faults()
_HOOKS = [("before-call", FAULTS._before), ("after-call", FAULTS._after)]


def install() -> Faults:
    if _HOOKS[0] not in botocore.handlers.BUILTIN_HANDLERS:
        botocore.handlers.BUILTIN_HANDLERS.extend(_HOOKS)
        from chalicelib.tables import reset_connections

        reset_connections()
    FAULTS.arm(None)
    return FAULTS


def die_in_child(action: Callable[[], Any], k: int, form: str) -> int:
    """Run `action` in a forked child that dies at its k-th AWS call; the child's exit code.

    The child makes its own connections (the parent's pooled sockets must not be shared) and
    talks to moto's server, which runs in the parent and keeps whatever the child did."""
    pid = os.fork()
    if pid == 0:  # the child: it only ever leaves through os._exit
        code = 0
        try:
            from chalicelib.tables import reset_connections

            reset_connections()
            FAULTS.arm(k, form)
            action()
        except BaseException:
            code = 3
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)
