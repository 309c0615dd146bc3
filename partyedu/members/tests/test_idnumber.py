from datetime import date

import pytest
from django.core.exceptions import ValidationError

from partyedu.members.choices import Gender
from partyedu.members.idnumber import parse_id_number


@pytest.mark.parametrize(
    "number", ["11010519491231002X", "440524188001010014", "34052419800101001X", "370101190102039973"]
)
def test_documented_vectors_pass(number):
    assert parse_id_number(number).number == number


def test_lowercase_x_is_normalised():
    assert parse_id_number("11010519491231002x").number == "11010519491231002X"


def test_birth_date_and_gender_are_decoded():
    info = parse_id_number("11010519491231002X")
    assert info.birth_date == date(1949, 12, 31)
    assert info.gender == Gender.FEMALE


def test_wrong_check_character_is_refused():
    with pytest.raises(ValidationError, match="校验位"):
        parse_id_number("110105194912310021")


def test_impossible_date_is_refused():
    with pytest.raises(ValidationError, match="不是有效日期"):
        parse_id_number("110105194902300021")


def test_wrong_length_is_refused():
    with pytest.raises(ValidationError, match="18位"):
        parse_id_number("1101051949123")
