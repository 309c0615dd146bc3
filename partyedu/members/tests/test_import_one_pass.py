"""An import dry run names every problem of every row in one pass (issue 11, the secretary's
everyday path): a row's third error does not wait until the first two are fixed."""

from partyedu.testsupport.factories import make_user

from .test_import import member_row, run, xlsx


def _problems(tree, **values):
    admin = make_user(role="org_admin", org=tree.district_a)
    report = run(admin, xlsx([member_row(tree.branch_a, **values)]), dry_run=True)
    return [(e.row, e.column) for e in report.errors]


def test_a_wrong_id_number_does_not_hide_the_rows_other_problems(tree):
    problems = _problems(tree, **{"身份证号": "110101198001010000", "手机号": "12345", "姓名": ""})
    assert set(problems) == {(2, "身份证号"), (2, "手机号"), (2, "姓名")}


def test_a_member_rule_and_a_field_check_are_reported_together(tree):
    problems = _problems(tree, **{"手机号": "12345", "姓名": ""})
    assert set(problems) == {(2, "手机号"), (2, "姓名")}


def test_each_problem_is_reported_once(tree):
    problems = _problems(tree, **{"身份证号": "110101198001010000", "手机号": "12345"})
    assert len(problems) == len(set(problems)) == 2
