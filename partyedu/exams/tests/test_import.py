"""Question import from the published template and export in the same template."""

import io

import pytest
from openpyxl import Workbook, load_workbook

from partyedu.core.models import AuditLog
from partyedu.exams.importing import QUESTION_COLUMNS
from partyedu.exams.models import Question
from partyedu.exams.services import questions_export, questions_import

from .conftest import make_bank, make_question

pytestmark = pytest.mark.django_db

HEADER = [c.header for c in QUESTION_COLUMNS]


def sheet(*rows):
    book = Workbook()
    ws = book.active
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def row(qtype, stem, options=(), answer="", explanation="", difficulty=3, tags=""):
    options = list(options) + [""] * (6 - len(options))
    return [qtype, stem, *options, answer, explanation, difficulty, tags]


GOOD = [
    row("单选题", "党的最高理想是什么？", ["小康", "共产主义"], "B", "党章总纲", 2, "党章"),
    row("多选", "三会一课包括？", ["支部党员大会", "支委会", "党小组会"], "ABC", "", 3, "党章、组织生活"),
    row("判断", "预备期为一年。", [], "正确"),
    row("填空", "全心全意为____服务。", [], "人民|人民群众"),
    row("简答", "谈谈学习体会。", [], "联系实际"),
]


def test_a_dry_run_reports_an_answer_letter_beyond_the_options_and_writes_nothing(tree):
    bank = make_bank(tree.root)
    data = sheet(GOOD[0], row("单选题", "第二题", ["甲", "乙", "丙", "丁"], "E"))
    report = questions_import(actor=None, bank=bank, file=data, filename="试题.xlsx", dry_run=True)
    assert [str(e) for e in report.errors] == ["第3行 答案: 答案“E”超出选项范围（共4个选项）"]
    assert not Question.objects.exists()


def test_a_real_run_with_one_bad_row_writes_nothing(tree):
    bank = make_bank(tree.root)
    data = sheet(GOOD[0], row("单选题", "第二题", ["甲", "乙"], "C"))
    report = questions_import(actor=None, bank=bank, file=data, filename="试题.xlsx", dry_run=False)
    assert not report.ok
    assert not Question.objects.exists()


def test_a_clean_file_imports_every_type_with_one_audit_row(tree):
    bank = make_bank(tree.root)
    report = questions_import(actor=None, bank=bank, file=sheet(*GOOD), filename="试题.xlsx", dry_run=False)
    assert report.ok, report.errors
    assert report.created == len(GOOD)
    fill = Question.objects.get(qtype="fill")
    assert fill.current_version.answer == ["人民", "人民群众"]
    assert set(Question.objects.get(qtype="multiple").tags.values_list("name", flat=True)) == {
        "党章",
        "组织生活",
    }
    assert AuditLog.objects.filter(action="import", object_type="exams.question").count() == 1


def test_a_stem_already_in_the_bank_or_twice_in_the_file_is_an_error(tree):
    bank = make_bank(tree.root)
    make_question(bank, qtype="judge", stem="预备期为一年", answer=True)
    data = sheet(GOOD[2], GOOD[0], row("单选题", "党的最高理想是什么?", ["甲", "乙"], "A"))
    report = questions_import(actor=None, bank=bank, file=data, filename="试题.xlsx", dry_run=True)
    messages = [str(e) for e in report.errors]
    assert messages[0].startswith("第2行 题干: 题库中已有相同题干的试题")
    assert messages[1] == "第4行 题干: 与第3行题干重复"


def test_an_export_imports_again_into_another_bank(tree):
    source = make_bank(tree.root, "甲库")
    questions_import(actor=None, bank=source, file=sheet(*GOOD), filename="试题.xlsx", dry_run=False)
    exported = questions_export(actor=None, bank=source)
    assert [c.value for c in next(load_workbook(io.BytesIO(exported)).active.iter_rows(max_row=1))] == HEADER
    target = make_bank(tree.root, "乙库")
    report = questions_import(actor=None, bank=target, file=exported, filename="导出.xlsx", dry_run=False)
    assert report.ok, report.errors
    assert target.questions.count() == len(GOOD)
