"""db.set_value: values are encoded by their attribute, never read as already encoded (issue 9.1)."""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute
from pynamodb.expressions.update import RemoveAction, SetAction

from chalicelib.db import set_value


def _encoded(action: SetAction) -> dict[str, object]:
    placeholders: dict[str, str] = {}
    values: dict[str, object] = {}
    action.serialize(placeholders, values)
    [value] = values.values()
    return value  # type: ignore[return-value]


def test_a_one_key_dict_named_like_a_type_tag_is_a_value_not_an_encoding():
    attr = JSONAttribute(attr_name="returned")
    for tag in ("N", "S", "B", "M", "L", "NULL", "BOOL"):
        action = set_value(attr, {tag: 2})
        assert isinstance(action, SetAction)
        assert _encoded(action) == {"S": f'{{"{tag}": 2}}'}


def test_numbers_are_encoded_by_their_attribute_and_none_removes():
    assert _encoded(set_value(NumberAttribute(attr_name="n"), 3)) == {"N": "3"}
    assert isinstance(set_value(JSONAttribute(attr_name="j"), None), RemoveAction)
