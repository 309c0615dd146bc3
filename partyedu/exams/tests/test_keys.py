"""How keys are written and responses marked (pure functions)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from partyedu.exams import keys


def test_normalized_text_folds_full_width_and_drops_spaces_and_punctuation():
    assert keys.normalize_text("ＡＢＣ　１２３，党 章！") == keys.normalize_text("abc123党章")


def test_an_answer_letter_beyond_the_options_is_refused_naming_it():
    with pytest.raises(ValidationError) as caught:
        keys.clean_key("single", ["甲", "乙", "丙"], "E")
    assert caught.value.message_dict["answer"] == ["答案“E”超出选项范围（共3个选项）"]


def test_a_single_choice_key_has_one_letter():
    with pytest.raises(ValidationError):
        keys.clean_key("single", ["甲", "乙"], "AB")


def test_a_multiple_choice_key_is_stored_sorted():
    assert keys.clean_key("multiple", ["甲", "乙", "丙"], "c,a") == "AC"


def test_a_judge_key_accepts_chinese_words():
    assert keys.clean_key("judge", [], "错误") is False


def test_multiple_choice_is_all_or_nothing():
    assert keys.mark("multiple", "AC", "A", [], Decimal(4)) == (False, Decimal(0))
    assert keys.mark("multiple", "AC", "AC", [], Decimal(4)) == (True, Decimal(4))


def test_a_fill_in_answer_matches_any_accepted_answer_after_normalisation():
    assert keys.mark("fill", ["人民", "人民群众"], " 人民群众。", [], Decimal(2)) == (True, Decimal(2))
    assert keys.mark("fill", ["人民"], "群众", [], Decimal(2)) == (False, Decimal(0))


def test_a_shuffled_response_is_marked_against_the_original_letters():
    # Shown order C, A, B: the member's "B" is the original "A".
    assert keys.mark("single", "A", "B", [2, 0, 1], Decimal(1)) == (True, Decimal(1))


def test_an_essay_is_not_marked_automatically():
    assert keys.mark("essay", None, "我的体会", [], Decimal(10)) is None
