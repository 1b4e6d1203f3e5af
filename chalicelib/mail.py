"""E-mails through Amazon SES. Bodies are rendered by the domains; this only sends.

Never logs the recipient (T15): callers pass an id to log instead.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from chalicelib.config import settings
from chalicelib.db import client
from chalicelib.message import Email
from chalicelib.observability import logger

__all__ = ["Email", "MailNotSent", "send"]


class MailNotSent(Exception):
    """SES did not take the e-mail. Carries SES's error code only: its message names the
    recipient (`Illegal address: …`), which must never reach a log or a traceback (T15)."""

    def __init__(self, code: str) -> None:
        super().__init__(f"SES did not send the e-mail: {code}")
        self.code = code


def send(email: Email, reference: str) -> str:
    """Send one e-mail; returns the SES message id. `reference` (an id, not personal data) is logged.
    Raises MailNotSent (with SES's error code, without its message) when SES refuses it."""
    body: dict[str, dict[str, str]] = {"Text": {"Data": email.text, "Charset": "UTF-8"}}
    if email.html:
        body["Html"] = {"Data": email.html, "Charset": "UTF-8"}
    extra = {"ConfigurationSetName": settings().ses_configuration_set} if settings().ses_configuration_set else {}
    try:
        answer = client("ses").send_email(
            Source=settings().ses_sender,
            Destination={"ToAddresses": [email.to]},
            Message={"Subject": {"Data": email.subject, "Charset": "UTF-8"}, "Body": body},
            **extra,
        )
    except ClientError as exc:
        raise MailNotSent(str(exc.response.get("Error", {}).get("Code") or "ClientError")) from None
    logger.info("email sent", extra={"reference": reference, "message_id": answer["MessageId"]})
    return str(answer["MessageId"])
