"""The facts of each trade-in e-mail (T6-T13): one typed model per kind, checked once.

The lifecycle builds the facts when a claim moves, so a bad fact is refused before the claim is
written (not when the e-mail goes out); they are stored in the claim's outbox as JSON (`dump`)
and read back into the same model when the e-mail is sent (`load`). Every deadline in them is
computed when the claim moves. Amounts are integer cents (G4), dates `date` (a `datetime` is
refused: it carries a time zone question), texts stripped and not empty.

Pure: the standard library and pydantic only.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^https?://\S")]
Cents = Annotated[int, Field(gt=0)]
FieldNames = Annotated[tuple[str, ...], Field(min_length=1)]


def _masked(iban: str) -> str:
    # T15: refuse a full IBAN so that a slip in the caller never mails one.
    if "*" not in iban:
        raise ValueError("must be masked (chalicelib.tradein.masking.mask_iban)")
    return iban


MaskedIban = Annotated[Text, AfterValidator(_masked)]


class _Facts(BaseModel):
    # strict: no "100" for cents, no string for a date (except in JSON, where a date is text).
    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")


class ProofRefused(_Facts):
    """T2, T13: `reason` is `rules.proof_refusal`'s code; `upload_by` the registration window's last day."""

    kind: Literal["proof_refused"] = "proof_refused"
    reason: Text
    upload_by: date


class Confirmation(_Facts):
    """T6: `ship_by` is the last day the old laptop must have arrived (T8). The label's link is
    presigned when the e-mail goes out (it expires), so it is not a stored fact."""

    kind: Literal["confirmation"] = "confirmation"
    ship_by: date


class Incomplete(_Facts):
    """T7: the participant fields still missing and the last day to complete them."""

    kind: Literal["incomplete"] = "incomplete"
    missing: FieldNames
    complete_by: date


class DeviceReceived(_Facts):
    """T8."""

    kind: Literal["device_received"] = "device_received"


class Approved(_Facts):
    """T9: the full reward."""

    kind: Literal["approved"] = "approved"
    reward_cents: Cents


class Revised(_Facts):
    """T9: a lower reward and the inspector's reason."""

    kind: Literal["revised"] = "revised"
    reward_cents: Cents
    reason: Text


class Rejected(_Facts):
    """T9, T10: the reason and the last day to ask for the old laptop back."""

    kind: Literal["rejected"] = "rejected"
    reason: Text
    return_request_by: date


class RejectedLate(_Facts):
    """T8: the laptop arrived after its deadline."""

    kind: Literal["rejected_late"] = "rejected_late"
    received_on: date
    deadline: date


class ReturnRequested(_Facts):
    """T10."""

    kind: Literal["return_requested"] = "return_requested"


class PayoutScheduled(_Facts):
    """T11: the amount, the batch's execution date and the masked IBAN (T15)."""

    kind: Literal["payout_scheduled"] = "payout_scheduled"
    amount_cents: Cents
    execution_date: date
    iban_masked: MaskedIban


class Paid(_Facts):
    """T11."""

    kind: Literal["paid"] = "paid"
    amount_cents: Cents
    iban_masked: MaskedIban


class Void(_Facts):
    """T12: the new laptop was returned."""

    kind: Literal["void"] = "void"


class Lapsed(_Facts):
    """T2, T7, T8, T10: why the claim lapsed, as the participant reads it."""

    kind: Literal["lapsed"] = "lapsed"
    reason: Text


class Disqualified(_Facts):
    """T13: the organiser's reason."""

    kind: Literal["disqualified"] = "disqualified"
    reason: Text


Facts: TypeAlias = (
    ProofRefused
    | Confirmation
    | Incomplete
    | DeviceReceived
    | Approved
    | Revised
    | Rejected
    | RejectedLate
    | ReturnRequested
    | PayoutScheduled
    | Paid
    | Void
    | Lapsed
    | Disqualified
)

_FACTS: TypeAdapter[Facts] = TypeAdapter(Annotated[Facts, Field(discriminator="kind")])


def dump(facts: Facts) -> dict[str, Any]:
    """The facts as the outbox item stores them: JSON values, the kind kept beside them (the
    item's `kind`), dates as ISO text. The same shape the outbox had before the models."""
    return facts.model_dump(mode="json", exclude={"kind"})


def load(kind: str, stored: dict[str, Any]) -> Facts:
    """The facts of a stored outbox item, read back into their model (JSON rules: a date is ISO
    text). Items written before the models have the same shape and read the same way."""
    return _FACTS.validate_json(json.dumps({**stored, "kind": kind}))
