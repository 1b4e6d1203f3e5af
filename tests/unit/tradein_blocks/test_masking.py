"""Masked personal data (T15): what the back office and any screen may show."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.tradein.masking import (
    mask_address,
    mask_birth_date,
    mask_email,
    mask_iban,
    mask_name,
    mask_participant,
    mask_phone,
    mask_postcode,
)


@pytest.mark.rule("T15")
def test_iban_keeps_country_and_last_four_grouped_by_four() -> None:
    assert mask_iban("NL91ABNA0417164300") == "NL** **** **** **43 00"


@pytest.mark.rule("T15")
def test_iban_in_print_format_or_lower_case_gives_the_same_mask() -> None:
    assert mask_iban("nl91 abna 0417 1643 00") == "NL** **** **** **43 00"


@pytest.mark.rule("T15")
def test_iban_of_another_length_keeps_its_shape() -> None:
    assert mask_iban("DE89370400440532013000") == "DE** **** **** **** **30 00"
    assert mask_iban("BE68539007547034") == "BE** **** **** 7034"


@pytest.mark.rule("T15")
def test_short_or_empty_iban_shows_nothing_but_the_country() -> None:
    assert mask_iban("") == ""
    assert mask_iban("NL1234") == "NL** **"


@pytest.mark.rule("T15")
@settings(max_examples=100, deadline=None)
@given(body=st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=12, max_size=30))
def test_iban_mask_hides_everything_between_country_and_last_four(body: str) -> None:
    iban = "NL" + body
    masked = mask_iban(iban)
    compact = masked.replace(" ", "")
    assert len(compact) == len(iban)
    assert compact[:2] == "NL" and compact[-4:] == iban[-4:]
    assert set(compact[2:-4]) == {"*"}
    assert all(len(group) == 4 for group in masked.split(" ")[:-1])


@pytest.mark.rule("T15")
def test_email_keeps_first_letters_and_top_level_domain() -> None:
    assert mask_email("jan.jansen@example.nl") == "j***@e***.nl"
    assert mask_email("  Piet@Mail.Example.COM ") == "P***@M***.COM"
    assert mask_email("") == ""
    assert mask_email("not-an-address") == "n***"


@pytest.mark.rule("T15")
def test_phone_keeps_only_the_last_two_digits() -> None:
    assert mask_phone("06-12345678") == "**-******78"
    assert mask_phone("+31 6 1234 5678") == "+** * **** **78"
    assert mask_phone("") == ""


@pytest.mark.rule("T15")
def test_name_postcode_and_birth_date() -> None:
    assert mask_name("van Dijk") == "v*** D***"
    assert mask_name("") == ""
    assert mask_postcode("1234 AB") == "12** **"
    assert mask_postcode("1234ab") == "12** **"
    assert mask_birth_date(date(1990, 5, 17)) == "1990-**-**"
    assert mask_birth_date("1990-05-17") == "1990-**-**"


@pytest.mark.rule("T15")
def test_address_is_masked_except_the_country() -> None:
    address = {
        "street": "Dorpsstraat",
        "house_number": 12,
        "house_number_suffix": "bis",
        "postcode": "1234 AB",
        "city": "Amsterdam",
        "country": "NL",
    }
    assert mask_address(address) == {
        "street": "D***",
        "house_number": "**",
        "house_number_suffix": "***",
        "postcode": "12** **",
        "city": "A***",
        "country": "NL",
    }


def _participant() -> dict[str, object]:
    return {
        "first_name": "Jozefien",
        "last_name": "van der Berg",
        "email": "jozefien.vdberg@voorbeeld.nl",
        "phone": "0612345678",
        "birth_date": "1988-03-14",
        "address": {
            "street": "Kerkstraat",
            "house_number": 271,
            "house_number_suffix": None,
            "postcode": "1017 GC",
            "city": "Amsterdam",
            "country": "NL",
        },
        "iban": "NL91ABNA0417164300",
        "account_holder": "J. van der Berg",
    }


@pytest.mark.rule("T15")
def test_participant_has_every_personal_field_masked() -> None:
    masked = mask_participant(_participant())
    assert masked == {
        "first_name": "J***",
        "last_name": "v*** d*** B***",
        "email": "j***@v***.nl",
        "phone": "********78",
        "birth_date": "1988-**-**",
        "address": {
            "street": "K***",
            "house_number": "***",
            "house_number_suffix": None,
            "postcode": "10** **",
            "city": "A***",
            "country": "NL",
        },
        "iban": "NL** **** **** **43 00",
        "account_holder": "J*** v*** d*** B***",
    }


@pytest.mark.rule("T15")
def test_no_personal_value_survives_in_the_masked_participant() -> None:
    participant = _participant()
    dumped = json.dumps(mask_participant(participant))
    address = participant["address"]
    assert isinstance(address, dict)
    secrets = [
        "Jozefien",
        "Berg",
        "jozefien.vdberg",
        "voorbeeld",
        "0612345678",
        "03-14",
        "Kerkstraat",
        "271",
        "1017 GC",
        "GC",
        "Amsterdam",
        "0417164300",
        "ABNA",
    ]
    for secret in secrets:
        assert secret not in dumped, secret


@pytest.mark.rule("T15")
def test_participant_without_bank_details_and_with_an_unknown_field() -> None:
    participant = {"first_name": "Jan", "iban": None, "nickname": "Jantje"}
    assert mask_participant(participant) == {"first_name": "J***", "iban": None, "nickname": "***"}


@pytest.mark.rule("T15")
def test_masking_does_not_change_the_input() -> None:
    participant = _participant()
    before = json.dumps(participant, sort_keys=True)
    mask_participant(participant)
    assert json.dumps(participant, sort_keys=True) == before
