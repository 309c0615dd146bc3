"""Blind indexes of members' personal data."""

from partyedu.core import pii


def id_number_index(number: str) -> str:
    return pii.blind_index(number, "id_number")
