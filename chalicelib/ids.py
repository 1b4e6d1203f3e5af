"""Random identifiers and codes: cryptographically random, without ambiguous characters."""

from __future__ import annotations

import secrets
import time

# Crockford-like alphabet without 0/O, 1/I/L and U: nothing a customer can misread.
READABLE = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def random_code(length: int, alphabet: str = READABLE) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def sortable_id() -> str:
    """A time-ordered unique id (ms timestamp + 80 random bits), for ledger entries and lots."""
    return f"{int(time.time() * 1000):013d}{secrets.token_hex(10)}"
