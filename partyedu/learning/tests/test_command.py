from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from partyedu.learning.models import LearningHourEntry
from partyedu.study.models import Attendance
from partyedu.testsupport.factories import make_member

from .factories import attend, make_activity


def run(*args):
    out = StringIO()
    call_command("rebuild_learning_hours", *args, stdout=out)
    return out.getvalue()


def test_reports_zero_after_correct_operation(tree):
    attend(make_activity(tree.branch_a), make_member(tree.branch_a))
    assert "0 处差异" in run()


def test_reports_then_applies(tree):
    row = attend(make_activity(tree.branch_a), make_member(tree.branch_a))
    Attendance.objects.filter(pk=row.pk).update(status="leave")
    assert "学时台账：1 处与来源不符" in run()
    with pytest.raises(CommandError):
        run("--check")
    assert "已追加更正记录：1 条" in run("--apply")
    assert LearningHourEntry.objects.count() == 2
    assert "0 处差异" in run()
