"""One pager for every list of the API (`{items, next_cursor}`, API.md).

- `page` reads one item more than asked, so `next_cursor` is null on the last page (a full last
  page included), and builds the key to continue from out of the last item shown.
- A cursor is opaque and signed: base64url(JSON of `{list, key}`) "." base64url(HMAC-SHA256),
  with `CURSOR_SECRET`. `list` names the list and whatever fixes it (e.g. the member), so a cursor
  changed, cut, or handed out by another list (or for another member) is a 400 INVALID_CURSOR,
  and a key that reaches DynamoDB is always one this API made.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

from chalicelib.errors import BadRequest


class Item(Protocol):
    """A stored item as `page` reads it: a PynamoDB model, which serializes to its attributes."""

    def serialize(self, null_check: bool = True) -> dict[str, dict[str, Any]]: ...


T = TypeVar("T", bound=Item)
INVALID = "cursor is not one this API handed out"


def page(
    query: Callable[..., Iterable[T]], limit: int, start: dict[str, Any] | None, key: Sequence[str]
) -> tuple[list[T], dict[str, Any] | None]:
    """One page of a PynamoDB query: `query(limit=..., last_evaluated_key=...)` (a model's or an
    index's `query` with its other arguments bound); the key to continue from is made of the `key`
    attributes of the page's last item (the table's and the index's keys), None on the last page."""
    items = list(query(limit=limit + 1, last_evaluated_key=start))
    if len(items) <= limit:
        return items, None
    items = items[:limit]
    # null_check off: an index may project only the keys.
    last = items[-1].serialize(null_check=False)
    return items, {name: last[name] for name in key}


def _secret() -> bytes:
    from chalicelib.config import settings

    return settings().cursor_secret.encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode())


def _signature(payload: str) -> str:
    return _b64(hmac.new(_secret(), payload.encode(), hashlib.sha256).digest())


def encode(key: Any, scope: str) -> str | None:
    """The cursor of the rest of list `scope` from `key` (None: this was the last page)."""
    if not key:
        return None
    payload = _b64(json.dumps({"list": scope, "key": key}, sort_keys=True, separators=(",", ":")).encode())
    return f"{payload}.{_signature(payload)}"


def decode(cursor: str | None, scope: str) -> Any:
    """The key a cursor of list `scope` carries; None without a cursor; 400 INVALID_CURSOR when it
    is not one this API signed for this list."""
    if not cursor:
        return None
    payload, _, signature = cursor.partition(".")
    if not payload or not hmac.compare_digest(signature.encode(), _signature(payload).encode()):
        raise BadRequest("INVALID_CURSOR", INVALID)
    try:
        value = json.loads(_unb64(payload))
    except (ValueError, binascii.Error, RecursionError):
        raise BadRequest("INVALID_CURSOR", INVALID) from None
    if not isinstance(value, dict) or value.get("list") != scope or not value.get("key"):
        raise BadRequest("INVALID_CURSOR", INVALID)
    return value["key"]
