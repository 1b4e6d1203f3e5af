"""The payout file (T11): a SEPA credit transfer, ISO 20022 pain.001.001.09, built with sepaxml.

pain.001.001.09 (the 2019 message version of the current EPC SCT rulebook; Dutch banks have
phased out .03). IBAN and BIC are checked with python-stdnum (ISO 13616 / ISO 9362). The file
is validated against the schema that sepaxml ships. Amounts are integer cents end to end (G4):
sepaxml takes cents and writes the decimal text itself. Deterministic: the message id and
payment-information id derive from `batch_id`, the creation time is an argument, so a retried
nightly run writes the same bytes. Creditors are IBAN-only (no BIC). Pure: no clock, no env,
no I/O.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Any

from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError as InvalidNumber

# sepaxml and xmlschema are imported when a file is built: only the nightly trade-in run does.

SCHEMA = "pain.001.001.09"
NAMESPACE = f"urn:iso:std:iso:20022:tech:xsd:{SCHEMA}"

# The EPC's Latin character set for SEPA text fields.
_NOT_SEPA = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")
_ID = re.compile(r"[A-Za-z0-9/\-?:().,'+]{1,35}")
# Latin letters that have no Unicode decomposition to fold from.
_UNDECOMPOSED = str.maketrans(
    {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ø": "O", "ø": "o", "ß": "ss", "Æ": "AE", "æ": "ae"}
)


@dataclass(frozen=True)
class Debtor:
    """The organiser's account the rewards are paid from."""

    name: str
    iban: str
    bic: str


class PayoutAccountMissing(RuntimeError):
    """No paying account is configured: no payout file may be made (T11)."""


def organiser_account(iban: str, bic: str, name: str) -> Debtor:
    """The organiser's paying account from the settings, refused when any part is missing."""
    given = {"ORGANISER_IBAN": iban.strip(), "ORGANISER_BIC": bic.strip(), "ORGANISER_NAME": name.strip()}
    missing = [variable for variable, value in given.items() if not value]
    if missing:
        raise PayoutAccountMissing(
            f"no payout file made: {', '.join(missing)} not set (deploy parameters OrganiserIban, "
            "OrganiserBic, OrganiserName)"
        )
    return Debtor(name=given["ORGANISER_NAME"], iban=given["ORGANISER_IBAN"], bic=given["ORGANISER_BIC"])


@dataclass(frozen=True)
class Payment:
    """One reward transfer; `end_to_end_id` is the claim number, `amount_cents` integer cents (G4)."""

    end_to_end_id: str
    name: str
    iban: str
    amount_cents: int
    description: str


def sepa_text(text: str, limit: int) -> str:
    """Text reduced to the SEPA Latin character set (accents folded, others a space), at most `limit`."""
    folded = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSED)).encode("ascii", "ignore").decode()
    return " ".join(_NOT_SEPA.sub(" ", folded).split())[:limit]


def _is_id(value: str) -> bool:
    # EPC: 1-35 characters of the Latin set, no space, not starting or ending with "/", no "//".
    return bool(_ID.fullmatch(value)) and not value.startswith("/") and not value.endswith("/") and "//" not in value


def message_id(batch_id: str) -> str:
    """T11: the pain.001 message id of a batch: `batch_id` itself when it is a valid SEPA id, else a hash of it."""
    if _is_id(batch_id):
        return batch_id
    if not batch_id:
        raise ValueError("batch_id must not be empty")
    return "TI-" + hashlib.sha256(batch_id.encode()).hexdigest()[:32]


def _iban(value: str, who: str) -> str:
    try:
        return str(stdnum_iban.validate(value))
    except InvalidNumber as error:
        raise ValueError(f"invalid IBAN for {who}") from error


def _check(payment: Payment) -> None:
    if not _is_id(payment.end_to_end_id):
        raise ValueError("end_to_end_id must be 1-35 SEPA characters without spaces")
    if isinstance(payment.amount_cents, bool) or not isinstance(payment.amount_cents, int):
        raise TypeError("amount_cents must be integer cents")
    if not 1 <= payment.amount_cents <= 99_999_999_999:
        raise ValueError("amount_cents must be between 1 and 99999999999")
    if not sepa_text(payment.name, 70):
        raise ValueError("creditor name must hold SEPA characters")


def pain001(
    batch_id: str,
    execution_date: date,
    debtor: Debtor,
    payments: Sequence[Payment],
    *,
    created_at: datetime | None = None,
) -> bytes:
    """T11: the schema-valid pain.001.001.09 XML of one payout batch (UTF-8 bytes).

    One payment-information block with `execution_date` as requested execution date, one
    transaction per payment (end-to-end id = claim number, creditor name, IBAN, amount,
    remittance text), control sums computed from cents. `created_at` is the file's creation
    time (pass the run's time); left out it is midnight of `execution_date`, so the bytes depend
    on the arguments only. Raises ValueError on an empty batch, a duplicate end-to-end id, an
    invalid IBAN/BIC or a non-positive amount; TypeError on a non-integer amount.
    """
    if not payments:
        raise ValueError("a payout batch needs at least one payment")
    if isinstance(execution_date, datetime) or not isinstance(execution_date, date):
        raise TypeError("execution_date must be a date")
    ids = [p.end_to_end_id for p in payments]
    if len(set(ids)) != len(ids):
        raise ValueError("end_to_end_id must be unique within a batch")
    for payment in payments:
        _check(payment)
    msg_id = message_id(batch_id)
    config: dict[str, object] = {
        "name": sepa_text(debtor.name, 70),
        "IBAN": _iban(debtor.iban, "debtor"),
        "currency": "EUR",
        "batch": True,
    }
    if debtor.bic.strip():
        try:
            config["BIC"] = str(stdnum_bic.validate(debtor.bic.strip()))
        except InvalidNumber as error:
            raise ValueError("invalid BIC for debtor") from error

    from sepaxml import SepaTransfer

    transfer = SepaTransfer(config, schema=SCHEMA, clean=False)
    for payment in payments:
        transfer.add_payment(
            {
                "name": sepa_text(payment.name, 70),
                "IBAN": _iban(payment.iban, payment.end_to_end_id),
                "amount": payment.amount_cents,
                "execution_date": execution_date,
                "description": sepa_text(payment.description, 140) or payment.end_to_end_id,
                "endtoend_id": payment.end_to_end_id,
            }
        )
    raw = transfer.export(validate=False)

    # sepaxml draws the message id, payment-information id and creation time from the clock and
    # a random source; replace them so that the file is a function of the arguments.
    created = created_at or datetime.combine(execution_date, time(0, 0))
    ET.register_namespace("", NAMESPACE)
    root = ET.fromstring(raw)  # noqa: S314 - our own just-built document, not untrusted input
    ns = {"p": NAMESPACE}
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", ns)
    info = root.find("p:CstmrCdtTrfInitn/p:PmtInf", ns)
    if header is None or info is None:
        raise RuntimeError("sepaxml produced no group header or payment information")
    _set(header, "p:MsgId", msg_id, ns)
    _set(header, "p:CreDtTm", created.strftime("%Y-%m-%dT%H:%M:%S"), ns)
    _set(info, "p:PmtInfId", f"{msg_id[:31]}-001", ns)
    out = b'<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(root, encoding="unicode").encode("utf-8")
    _validate(out)
    return out


@lru_cache(maxsize=1)
def _schema() -> Any:
    # Imported late, as sepaxml does: xmlschema patches ElementTree when imported. Loading the
    # XSD takes a quarter second, so it is loaded once per process rather than per file.
    import sepaxml
    import xmlschema

    return xmlschema.XMLSchema(str(Path(sepaxml.__file__).parent / "schemas" / f"{SCHEMA}.xsd"))


def _validate(xml: bytes) -> None:
    from sepaxml.validation import ValidationError

    errors = list(_schema().iter_errors(xml.decode("utf-8")))
    if errors:
        raise ValidationError(f"the pain.001 file is not schema-valid: {errors[0].reason}")


def _set(parent: ET.Element, path: str, text: str, ns: dict[str, str]) -> None:
    node = parent.find(path, ns)
    if node is None:
        raise RuntimeError(f"sepaxml produced no {path}")
    node.text = text
