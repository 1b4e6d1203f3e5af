"""An e-mail as the domains render it: plain data, so that templates import no AWS SDK
(chalicelib.mail sends it through SES)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str | None = None
