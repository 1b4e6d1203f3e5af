"""The payout file (T11): a schema-valid SEPA credit transfer, pain.001.001.09, in cents."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, datetime
from pathlib import Path

import pytest
import sepaxml
import xmlschema

from chalicelib.tradein.sepa import NAMESPACE, SCHEMA, Debtor, Payment, message_id, pain001, sepa_text

NS = {"p": NAMESPACE}
DEBTOR = Debtor(name="Retail Nederland B.V.", iban="NL91 ABNA 0417 1643 00", bic="ABNANL2A")
PAYMENTS = (
    Payment("K7X-92QF", "José Müller", "NL44RABO0123456789", 10000, "Inruilactie claim K7X-92QF"),
    Payment("AB3-XY7Z", "Jan de Vries", "NL20INGB0001234567", 7550, "Inruilactie claim AB3-XY7Z"),
    Payment("ZZ9-0001", "Anna Schmidt", "DE89370400440532013000", 1, "Inruilactie claim ZZ9-0001"),
)


def _parse(xml: bytes) -> ET.Element:
    return ET.fromstring(xml)


def _text(node: ET.Element, path: str) -> str:
    found = node.find(path, NS)
    assert found is not None, path
    return found.text or ""


def _cents(decimal_text: str) -> int:
    whole, _, fraction = decimal_text.partition(".")
    assert len(fraction) == 2
    return int(whole) * 100 + int(fraction)


@pytest.mark.rule("T11")
def test_every_payment_is_in_the_file_with_its_amount_iban_name_and_claim_number() -> None:
    root = _parse(pain001("payout-2017-09-28", date(2017, 9, 28), DEBTOR, PAYMENTS))
    transactions = root.findall("p:CstmrCdtTrfInitn/p:PmtInf/p:CdtTrfTxInf", NS)
    found = [
        (
            _text(tx, "p:PmtId/p:EndToEndId"),
            _cents(_text(tx, "p:Amt/p:InstdAmt")),
            _text(tx, "p:CdtrAcct/p:Id/p:IBAN"),
            _text(tx, "p:Cdtr/p:Nm"),
            _text(tx, "p:RmtInf/p:Ustrd"),
        )
        for tx in transactions
    ]
    assert found == [
        ("K7X-92QF", 10000, "NL44RABO0123456789", "Jose Muller", "Inruilactie claim K7X-92QF"),
        ("AB3-XY7Z", 7550, "NL20INGB0001234567", "Jan de Vries", "Inruilactie claim AB3-XY7Z"),
        ("ZZ9-0001", 1, "DE89370400440532013000", "Anna Schmidt", "Inruilactie claim ZZ9-0001"),
    ]
    for tx in transactions:
        amount = tx.find("p:Amt/p:InstdAmt", NS)
        assert amount is not None and amount.get("Ccy") == "EUR"


@pytest.mark.rule("T11")
def test_control_sums_count_and_execution_date() -> None:
    root = _parse(pain001("payout-2017-09-28", date(2017, 9, 28), DEBTOR, PAYMENTS))
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
    info = root.find("p:CstmrCdtTrfInitn/p:PmtInf", NS)
    assert header is not None and info is not None
    assert _text(header, "p:CtrlSum") == "175.51"
    assert _text(header, "p:NbOfTxs") == "3"
    assert _text(info, "p:CtrlSum") == "175.51"
    assert _text(info, "p:NbOfTxs") == "3"
    assert _text(info, "p:ReqdExctnDt/p:Dt") == "2017-09-28"
    assert _text(info, "p:PmtMtd") == "TRF"
    assert _text(info, "p:PmtTpInf/p:SvcLvl/p:Cd") == "SEPA"
    assert _text(info, "p:ChrgBr") == "SLEV"


@pytest.mark.rule("T11")
def test_debtor_is_the_organiser_and_creditors_are_iban_only() -> None:
    root = _parse(pain001("payout-2017-09-28", date(2017, 9, 28), DEBTOR, PAYMENTS))
    info = root.find("p:CstmrCdtTrfInitn/p:PmtInf", NS)
    assert info is not None
    assert _text(info, "p:Dbtr/p:Nm") == "Retail Nederland B.V."
    assert _text(info, "p:DbtrAcct/p:Id/p:IBAN") == "NL91ABNA0417164300"
    assert _text(info, "p:DbtrAgt/p:FinInstnId/p:BICFI") == "ABNANL2A"
    assert root.findall(".//p:CdtrAgt", NS) == []


@pytest.mark.rule("T11")
def test_file_validates_against_the_pain_001_001_09_schema() -> None:
    assert SCHEMA == "pain.001.001.09"
    xml = pain001("payout-2017-09-28", date(2017, 9, 28), DEBTOR, PAYMENTS)
    schema = xmlschema.XMLSchema(str(Path(sepaxml.__file__).parent / "schemas" / f"{SCHEMA}.xsd"))
    assert schema.is_valid(xml.decode())
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')


@pytest.mark.rule("T11")
def test_same_batch_gives_the_same_bytes_with_ids_from_the_batch_id() -> None:
    first = pain001("payout-2017-09-28", date(2017, 9, 28), DEBTOR, PAYMENTS)
    assert first == pain001("payout-2017-09-28", date(2017, 9, 28), DEBTOR, PAYMENTS)
    root = _parse(first)
    assert _text(root, "p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId") == "payout-2017-09-28"
    assert _text(root, "p:CstmrCdtTrfInitn/p:GrpHdr/p:CreDtTm") == "2017-09-28T00:00:00"
    assert _text(root, "p:CstmrCdtTrfInitn/p:PmtInf/p:PmtInfId") == "payout-2017-09-28-001"


@pytest.mark.rule("T11")
def test_creation_time_is_taken_from_the_caller() -> None:
    root = _parse(pain001("b1", date(2017, 9, 28), DEBTOR, PAYMENTS[:1], created_at=datetime(2017, 9, 27, 2, 15, 7)))
    assert _text(root, "p:CstmrCdtTrfInitn/p:GrpHdr/p:CreDtTm") == "2017-09-27T02:15:07"


def test_message_id_of_a_batch_id_that_is_no_valid_sepa_id_is_a_stable_hash() -> None:
    assert message_id("payout-2017-09-28") == "payout-2017-09-28"
    assert message_id("payout//2017").startswith("TI-")
    hashed = message_id("payout#2017-09-28#campaign-with-a-very-long-name")
    assert hashed == message_id("payout#2017-09-28#campaign-with-a-very-long-name")
    assert hashed.startswith("TI-") and len(hashed) == 35
    assert hashed != message_id("payout#2017-09-29#campaign-with-a-very-long-name")
    with pytest.raises(ValueError):
        message_id("")


@pytest.mark.rule("T11")
def test_amounts_are_written_from_cents_without_rounding() -> None:
    payments = [
        Payment("C-1", "A", "NL44RABO0123456789", 99_999_999_999, "max"),
        Payment("C-2", "B", "NL20INGB0001234567", 10, "ten cents"),
    ]
    root = _parse(pain001("b2", date(2017, 9, 28), DEBTOR, payments))
    amounts = [a.text for a in root.findall(".//p:InstdAmt", NS)]
    assert amounts == ["999999999.99", "0.10"]
    assert _text(root, "p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum") == "1000000000.09"


@pytest.mark.parametrize("amount", [10000.0, "10000", True])
def test_a_non_integer_amount_is_refused(amount: object) -> None:
    payment = Payment("C-1", "A", "NL44RABO0123456789", amount, "x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        pain001("b3", date(2017, 9, 28), DEBTOR, [payment])


@pytest.mark.parametrize(
    "payments",
    [
        [],
        [Payment("C-1", "A", "NL44RABO0123456789", 0, "x")],
        [Payment("C-1", "A", "NL44RABO0123456789", -100, "x")],
        [Payment("C-1", "A", "NL45RABO0123456789", 100, "x")],  # checksum wrong
        [Payment("C 1", "A", "NL44RABO0123456789", 100, "x")],  # space in the end-to-end id
        [Payment("/C-1", "A", "NL44RABO0123456789", 100, "x")],  # EPC: no leading slash
        [Payment("C//1", "A", "NL44RABO0123456789", 100, "x")],  # EPC: no double slash
        [Payment("C-1", "A", "NL44RABO0123456789", 100, "x"), Payment("C-1", "B", "NL20INGB0001234567", 1, "y")],
        [Payment("C-1", "日本", "NL44RABO0123456789", 100, "x")],  # no SEPA character left in the name
    ],
)
def test_invalid_batches_are_refused(payments: list[Payment]) -> None:
    with pytest.raises(ValueError):
        pain001("b4", date(2017, 9, 28), DEBTOR, payments)


def test_invalid_debtor_account_is_refused() -> None:
    with pytest.raises(ValueError):
        pain001("b5", date(2017, 9, 28), Debtor("X", "NL00ABNA0417164300", ""), PAYMENTS)
    with pytest.raises(ValueError):
        pain001("b5", date(2017, 9, 28), Debtor("X", "NL91ABNA0417164300", "NOTABIC"), PAYMENTS)


def test_debtor_without_bic_is_valid() -> None:
    root = _parse(pain001("b6", date(2017, 9, 28), Debtor("X", "NL91ABNA0417164300", ""), PAYMENTS[:1]))
    assert root.findall(".//p:BICFI", NS) == []


def test_sepa_text_keeps_the_sepa_character_set() -> None:
    assert sepa_text("Zoë & Łukasz <van 't Hof>", 70) == "Zoe Lukasz van 't Hof"
    assert sepa_text("x" * 200, 140) == "x" * 140
