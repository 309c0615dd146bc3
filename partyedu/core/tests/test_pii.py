import pytest
from django.db import connection

from partyedu.core import pii
from partyedu.testsupport.factories import make_member


def test_mobile_mask_keeps_first_three_and_last_four():
    assert pii.mask_mobile("13812345678") == "138****5678"


def test_id_mask_keeps_first_three_and_last_four():
    assert pii.mask_id_number("11010519491231002X") == "110***********002X"


def test_name_mask_keeps_surname():
    assert pii.mask_name("张三丰") == "张**"


def test_encrypt_round_trips_and_is_not_plain():
    token = pii.encrypt("11010519491231002X")
    assert "11010519491231002X" not in token
    assert pii.decrypt(token) == "11010519491231002X"


def test_blind_index_is_stable_and_purpose_bound():
    assert pii.blind_index("x", "id_number") == pii.blind_index("x", "id_number")
    assert pii.blind_index("x", "id_number") != pii.blind_index("x", "mobile")


def test_rotated_keys_still_decrypt_old_values(settings):
    token = pii.encrypt("13812345678")
    from cryptography.fernet import Fernet

    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode() + "," + settings.FIELD_ENCRYPTION_KEY
    assert pii.decrypt(token) == "13812345678"


def test_id_number_is_encrypted_in_the_database(tree):
    member = make_member(tree.branch_a, phone="13812345678")
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM members_member WHERE id = %s", [member.pk])
        raw_id, raw_phone = cursor.fetchone()
    assert member.id_number not in raw_id
    assert "13812345678" not in raw_phone


def test_encrypted_field_refuses_text_lookups(tree):
    from django.core.exceptions import FieldError

    from partyedu.members.models import Member

    with pytest.raises(FieldError):
        list(Member.objects.filter(id_number__startswith="110"))
