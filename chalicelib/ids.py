"""Random identifiers and codes: cryptographically random, without ambiguous characters."""

from __future__ import annotations

import secrets

# Crockford-like alphabet without 0/O, 1/I/L and U: nothing a customer can misread.
READABLE = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def random_code(length: int, alphabet: str = READABLE) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))
