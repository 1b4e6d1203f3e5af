"""Random identifiers and codes (cryptographically random, without ambiguous characters), and
the request digest that tells an identical replay from a conflicting one."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from typing import Any

# Crockford-like alphabet without 0/O, 1/I/L and U: nothing a customer can misread.
READABLE = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def random_code(length: int, alphabet: str = READABLE) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def fingerprint(payload: Mapping[str, Any]) -> str:
    """A stable digest of a request body: a replay with another body under the same key is a 409."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
