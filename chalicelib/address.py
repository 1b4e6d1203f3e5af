"""The postal address of API.md, shared by members (L14) and trade-in participants (T3, T4)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field, StrictInt

from chalicelib.body import Body


@dataclass(frozen=True)
class Address:
    street: str
    house_number: int
    postcode: str
    city: str
    country: str
    house_number_suffix: str | None = None


class AddressIn(Body):
    """`{street, house_number (integer), house_number_suffix?, postcode, city, country}`."""

    street: str = Field(min_length=1, max_length=200)
    house_number: StrictInt = Field(ge=1, le=99_999)
    house_number_suffix: str | None = Field(default=None, max_length=10)
    postcode: str = Field(min_length=1, max_length=16)
    city: str = Field(min_length=1, max_length=100)
    country: str = Field(min_length=2, max_length=56)

    def to_address(self) -> Address:
        return Address(**self.model_dump())
