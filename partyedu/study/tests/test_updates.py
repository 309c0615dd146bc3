"""Services behind the edit pages: changing a study plan and its required topics (a topic that
activities cover is never removed), correcting a printed study material, and the cadence rules
set and removed for a subtree."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from partyedu.core.models import AuditLog
from partyedu.study.models import Activity, CadenceRule, RequiredTopic, StudyMaterial, StudyPlan
from partyedu.study.services import (
    cadence_rule_delete,
    cadence_rule_set,
    material_create,
    material_update,
    study_plan_issue,
    study_plan_update,
)
from partyedu.testsupport.factories import make_user

from .conftest import record

pytestmark = pytest.mark.django_db


def issue(org, topics=("学习党章", "学习条例")) -> StudyPlan:
    return study_plan_issue(
        actor=None,
        data={
            "organization": org,
            "title": "2025年学习计划",
            "year": 2025,
            "topics": [{"title": t} for t in topics],
        },
    )


def rows(plan: StudyPlan) -> list[dict]:
    """The plan's topics as the edit form sends them back: each with its id."""
    return [{"id": t.pk, "title": t.title, "due_date": t.due_date} for t in plan.topics.all()]


def titles(plan: StudyPlan) -> list[str]:
    return list(plan.topics.order_by("sort_order", "id").values_list("title", flat=True))


# --- study plans ---------------------------------------------------------------------------------


def test_plan_title_kind_year_and_description_are_changed(tree, admin):
    plan = issue(tree.district_a)
    study_plan_update(
        actor=admin,
        plan=plan,
        data={"title": "学习计划（修订）", "kind": "thematic", "year": 2026, "description": "说明"},
    )
    plan.refresh_from_db()
    assert (plan.title, plan.kind, plan.year, plan.description) == (
        "学习计划（修订）",
        "thematic",
        2026,
        "说明",
    )


def test_topic_is_renamed_and_given_a_deadline_in_place(tree, admin):
    plan = issue(tree.district_a)
    first = plan.topics.get(title="学习党章")
    activity = record(tree.branch_a, required_topic=first)
    topics = rows(plan)
    topics[0].update(title="学习新修订的党章", due_date=date(2025, 6, 30))
    study_plan_update(actor=admin, plan=plan, data={"topics": topics})
    first.refresh_from_db()
    assert (first.title, first.due_date) == ("学习新修订的党章", date(2025, 6, 30))
    activity.refresh_from_db()
    assert activity.required_topic_id == first.pk


def test_new_topic_is_added_at_its_place_in_the_list(tree, admin):
    plan = issue(tree.district_a)
    topics = rows(plan)
    topics.insert(1, {"title": "学习准则", "due_date": date(2025, 9, 30)})
    study_plan_update(actor=admin, plan=plan, data={"topics": topics})
    assert titles(plan) == ["学习党章", "学习准则", "学习条例"]
    assert plan.topics.get(title="学习准则").due_date == date(2025, 9, 30)


def test_topic_no_activity_covers_is_removed(tree, admin):
    plan = issue(tree.district_a)
    study_plan_update(actor=admin, plan=plan, data={"topics": rows(plan)[:1]})
    assert titles(plan) == ["学习党章"]


def test_removing_a_covered_topic_is_refused_with_the_topic_named(tree, admin):
    plan = issue(tree.district_a)
    covered = plan.topics.get(title="学习条例")
    record(tree.branch_a, required_topic=covered)
    record(tree.group_a, required_topic=covered)
    with pytest.raises(ValidationError) as exc:
        study_plan_update(actor=admin, plan=plan, data={"topics": rows(plan)[:1]})
    assert exc.value.message_dict["topics"] == [
        "专题“学习条例”已有2次活动对应，不能删除；如需调整，请修改专题名称或完成期限"
    ]


def test_a_refused_topic_removal_writes_nothing(tree, admin):
    plan = issue(tree.district_a)
    record(tree.branch_a, required_topic=plan.topics.get(title="学习条例"))
    topics = [*rows(plan)[:1], {"title": "新专题"}]
    with pytest.raises(ValidationError):
        study_plan_update(actor=admin, plan=plan, data={"title": "改了名", "topics": topics})
    plan.refresh_from_db()
    assert plan.title == "2025年学习计划"
    assert titles(plan) == ["学习党章", "学习条例"]
    assert Activity.objects.filter(required_topic__isnull=False).count() == 1
    assert not AuditLog.objects.filter(object_type="study.studyplan", action="update").exists()


def test_topics_are_kept_when_the_data_leaves_them_out(tree, admin):
    plan = issue(tree.district_a)
    study_plan_update(actor=admin, plan=plan, data={"title": "只改名称"})
    assert titles(plan) == ["学习党章", "学习条例"]


def test_topic_without_a_title_is_refused_by_its_number(tree, admin):
    plan = issue(tree.district_a)
    topics = rows(plan)
    topics[1]["title"] = " "
    with pytest.raises(ValidationError) as exc:
        study_plan_update(actor=admin, plan=plan, data={"topics": topics})
    assert exc.value.message_dict["topics"] == ["第2个专题：请填写专题名称"]


def test_topic_of_another_plan_is_refused(tree, admin):
    plan = issue(tree.district_a)
    other = issue(tree.district_a, topics=("别的专题",))
    foreign = other.topics.get()
    with pytest.raises(ValidationError) as exc:
        study_plan_update(
            actor=admin, plan=plan, data={"topics": [*rows(plan), {"id": foreign.pk, "title": "改掉"}]}
        )
    assert exc.value.message_dict["topics"] == ["第3个专题不属于本计划"]
    foreign.refresh_from_db()
    assert foreign.title == "别的专题"


def test_the_same_topic_twice_is_refused(tree, admin):
    plan = issue(tree.district_a)
    topics = rows(plan)
    with pytest.raises(ValidationError) as exc:
        study_plan_update(actor=admin, plan=plan, data={"topics": [*topics, topics[0]]})
    assert exc.value.message_dict["topics"] == ["第3个专题重复"]


def test_plan_issuer_cannot_be_changed(tree, admin):
    plan = issue(tree.district_a)
    with pytest.raises(ValidationError) as exc:
        study_plan_update(actor=admin, plan=plan, data={"organization": tree.branch_a})
    assert exc.value.message_dict["organization"] == ["学习计划的下发组织不能修改"]


def test_plan_year_must_be_sensible(tree, admin):
    plan = issue(tree.district_a)
    with pytest.raises(ValidationError) as exc:
        study_plan_update(actor=admin, plan=plan, data={"year": 1900})
    assert "year" in exc.value.message_dict


def test_secretary_cannot_change_a_plan_issued_above(tree, secretary):
    plan = issue(tree.district_a)
    with pytest.raises(PermissionDenied):
        study_plan_update(actor=secretary, plan=plan, data={"title": "改名"})


def test_plan_change_is_audited_with_the_topics_changed(tree, admin):
    plan = issue(tree.district_a)
    topics = rows(plan)
    topics[0]["due_date"] = date(2025, 6, 30)
    study_plan_update(
        actor=admin, plan=plan, data={"title": "新名称", "topics": [topics[0], {"title": "学习准则"}]}
    )
    log = AuditLog.objects.get(object_type="study.studyplan", action="update")
    assert log.changes["title"] == ["2025年学习计划", "新名称"]
    assert log.changes["topics"] == {
        "removed": ["学习条例"],
        "changed": ["学习党章（2025-06-30）"],
        "added": ["学习准则"],
    }


def test_saving_an_unchanged_plan_writes_no_audit_row(tree, admin):
    plan = issue(tree.district_a)
    study_plan_update(actor=admin, plan=plan, data={"title": plan.title, "topics": rows(plan)})
    assert not AuditLog.objects.filter(object_type="study.studyplan", action="update").exists()
    assert RequiredTopic.objects.count() == 2


# --- study materials -----------------------------------------------------------------------------


def material(org) -> StudyMaterial:
    return material_create(actor=None, data={"organization": org, "title": "应知应会", "year": 2025})


def test_material_title_and_year_are_corrected(tree, admin):
    item = material(tree.district_a)
    material_update(actor=admin, material=item, data={"title": "应知应会手册", "year": 2026})
    item.refresh_from_db()
    assert (item.title, item.year) == ("应知应会手册", 2026)
    assert AuditLog.objects.get(object_type="study.studymaterial", action="update").changes == {
        "title": ["应知应会", "应知应会手册"],
        "year": [2025, 2026],
    }


def test_material_without_a_title_is_refused(tree, admin):
    item = material(tree.district_a)
    with pytest.raises(ValidationError) as exc:
        material_update(actor=admin, material=item, data={"title": ""})
    assert exc.value.message_dict["title"] == ["请填写材料名称"]


def test_material_issuer_cannot_be_changed(tree, admin):
    item = material(tree.district_a)
    with pytest.raises(ValidationError) as exc:
        material_update(actor=admin, material=item, data={"organization": tree.branch_a})
    assert exc.value.message_dict["organization"] == ["学习材料的发放组织不能修改"]


def test_material_issued_above_cannot_be_changed_below(tree, secretary):
    item = material(tree.district_a)
    with pytest.raises(PermissionDenied):
        material_update(actor=secretary, material=item, data={"title": "改名"})


# --- cadence rules -------------------------------------------------------------------------------


def test_setting_a_rule_again_replaces_it(tree, admin):
    cadence_rule_set(actor=admin, organization=tree.branch_a, activity_type="theme_day", period="month")
    cadence_rule_set(
        actor=admin, organization=tree.branch_a, activity_type="theme_day", period="quarter", min_count=2
    )
    rule = CadenceRule.objects.get()
    assert (rule.period, rule.min_count) == ("quarter", 2)


def test_deleting_a_rule_removes_it_and_is_audited(tree, admin):
    rule = cadence_rule_set(
        actor=admin, organization=tree.branch_a, activity_type="theme_day", period="month"
    )
    cadence_rule_delete(actor=admin, rule=rule)
    assert not CadenceRule.objects.exists()
    assert AuditLog.objects.filter(object_type="study.cadencerule", action="delete").count() == 1


def test_rule_outside_scope_cannot_be_deleted(tree, admin):
    rule = cadence_rule_set(actor=None, organization=tree.root, activity_type="theme_day", period="month")
    with pytest.raises(PermissionDenied):
        cadence_rule_delete(actor=admin, rule=rule)
    assert CadenceRule.objects.filter(pk=rule.pk).exists()


def test_a_negative_min_count_is_refused(tree, admin):
    with pytest.raises(ValidationError) as exc:
        cadence_rule_set(
            actor=admin, organization=tree.branch_a, activity_type="theme_day", period="month", min_count=-1
        )
    assert exc.value.message_dict["min_count"] == ["次数不能为负数"]


def test_user_without_a_study_role_cannot_set_a_rule(tree):
    with pytest.raises(PermissionDenied):
        cadence_rule_set(
            actor=make_user(), organization=tree.branch_a, activity_type="theme_day", period="month"
        )
