"""Edit pages of study plans, training classes, teaching sites, education bases and study
materials, their 编辑 buttons, and withdrawing a member from a training class."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from partyedu.core.models import AuditLog
from partyedu.core.testing import PostEndpointTests, ScopedEndpointTests
from partyedu.study import services
from partyedu.study.models import (
    Attendance,
    ClassEnrollment,
    EducationBase,
    StudyMaterial,
    StudyPlan,
    TeachingSite,
    TrainingClass,
)
from partyedu.testsupport.factories import Tree, make_member

from .conftest import record

pytestmark = pytest.mark.django_db
_n = itertools.count(1)


def make_plan(org: Any, topics: tuple[str, ...] = ("学习党章", "学习条例")) -> StudyPlan:
    return services.study_plan_issue(
        actor=None,
        data={
            "organization": org,
            "title": f"学习计划{next(_n)}号",
            "year": 2025,
            "topics": [{"title": t} for t in topics],
        },
    )


def make_class(org: Any, **data: Any) -> TrainingClass:
    return services.training_class_create(
        actor=None,
        data={
            "organization": org,
            "name": f"培训班{next(_n)}期",
            "start_date": date(2025, 3, 1),
            "end_date": date(2025, 4, 30),
            **data,
        },
    )


def make_site(org: Any) -> TeachingSite:
    return services.teaching_site_create(actor=None, data={"organization": org, "name": f"教学点{next(_n)}"})


def make_base(org: Any) -> EducationBase:
    return services.education_base_create(actor=None, data={"organization": org, "name": f"基地{next(_n)}"})


def make_material(org: Any) -> StudyMaterial:
    return services.material_create(
        actor=None, data={"organization": org, "title": f"应知应会{next(_n)}", "year": 2025}
    )


def plan_post(plan: StudyPlan, topics: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    """What the plan edit form posts: the plan's fields and one row per topic."""
    existing = plan.topics.count()
    data: dict[str, Any] = {
        "title": plan.title,
        "kind": plan.kind,
        "year": plan.year,
        "description": plan.description,
        "topics-TOTAL_FORMS": len(topics),
        "topics-INITIAL_FORMS": existing,
        "topics-MIN_NUM_FORMS": 0,
        "topics-MAX_NUM_FORMS": 1000,
        **fields,
    }
    for i, row in enumerate(topics):
        for key, value in row.items():
            data[f"topics-{i}-{key}"] = value
    return data


def topic_rows(plan: StudyPlan) -> list[dict[str, Any]]:
    return [{"id": t.pk, "title": t.title, "due_date": ""} for t in plan.topics.all()]


# --- scope of every new page ----------------------------------------------------------------------


class TestPlanEditScope(ScopedEndpointTests):
    url_name = "study:plan_edit"

    def make_object(self, org: Any) -> StudyPlan:
        return make_plan(org)

    def url(self, obj: StudyPlan) -> str:
        return reverse("study:plan_edit", args=[obj.pk])


class TestClassEditScope(ScopedEndpointTests):
    url_name = "study:class_edit"

    def make_object(self, org: Any) -> TrainingClass:
        return make_class(org)

    def url(self, obj: TrainingClass) -> str:
        return reverse("study:class_edit", args=[obj.pk])


class TestSiteEditScope(ScopedEndpointTests):
    url_name = "study:site_edit"

    def make_object(self, org: Any) -> TeachingSite:
        return make_site(org)

    def url(self, obj: TeachingSite) -> str:
        return reverse("study:site_edit", args=[obj.pk])


class TestBaseEditScope(ScopedEndpointTests):
    url_name = "study:base_edit"

    def make_object(self, org: Any) -> EducationBase:
        return make_base(org)

    def url(self, obj: EducationBase) -> str:
        return reverse("study:base_edit", args=[obj.pk])


class TestMaterialEditScope(ScopedEndpointTests):
    url_name = "study:material_edit"

    def make_object(self, org: Any) -> StudyMaterial:
        return make_material(org)

    def url(self, obj: StudyMaterial) -> str:
        return reverse("study:material_edit", args=[obj.pk])


class TestClassUnenrollScope(PostEndpointTests):
    url_name = "study:class_unenroll"

    def make_object(self, org: Any) -> ClassEnrollment:
        tc = make_class(org)
        services.training_class_enroll(actor=None, training_class=tc, members=[make_member(org, "学员")])
        return tc.enrollments.get()

    def url(self, obj: ClassEnrollment) -> str:
        return reverse("study:class_unenroll", args=[obj.training_class_id, obj.member_id])


# --- study plans --------------------------------------------------------------------------------


def test_plan_edit_form_starts_with_the_plan_and_its_topics(client: Any, tree: Tree, admin: Any) -> None:
    plan = make_plan(tree.district_a)
    client.force_login(admin)
    html = client.get(reverse("study:plan_edit", args=[plan.pk])).content.decode()
    assert f'value="{plan.title}"' in html
    assert 'value="学习党章"' in html and 'value="学习条例"' in html
    assert "下发组织：甲区委（不可修改）" in html
    assert 'name="organization"' not in html


def test_plan_edit_renames_a_topic_sets_a_deadline_and_adds_one(client: Any, tree: Tree, admin: Any) -> None:
    plan = make_plan(tree.district_a)
    rows = topic_rows(plan)
    rows[0].update(title="学习新党章", due_date="2025-06-30")
    rows.append({"title": "学习准则", "due_date": ""})
    client.force_login(admin)
    response = client.post(reverse("study:plan_edit", args=[plan.pk]), plan_post(plan, rows))
    assert response["Location"] == reverse("study:plan_detail", args=[plan.pk])
    assert list(plan.topics.values_list("title", "due_date")) == [
        ("学习新党章", date(2025, 6, 30)),
        ("学习条例", None),
        ("学习准则", None),
    ]
    html = client.get(response["Location"]).content.decode()
    assert f"已保存学习计划“{plan.title}”" in html


def test_plan_edit_deletes_a_ticked_topic(client: Any, tree: Tree, admin: Any) -> None:
    plan = make_plan(tree.district_a)
    rows = topic_rows(plan)
    rows[1]["DELETE"] = "on"
    client.force_login(admin)
    client.post(reverse("study:plan_edit", args=[plan.pk]), plan_post(plan, rows))
    assert list(plan.topics.values_list("title", flat=True)) == ["学习党章"]


def test_covered_topic_shows_its_activities_instead_of_a_delete_box(
    client: Any, tree: Tree, admin: Any
) -> None:
    plan = make_plan(tree.district_a)
    record(tree.branch_a, required_topic=plan.topics.get(title="学习党章"))
    client.force_login(admin)
    html = client.get(reverse("study:plan_edit", args=[plan.pk])).content.decode()
    assert "已有1次活动对应" in html
    assert 'name="topics-0-DELETE"' not in html and 'name="topics-1-DELETE"' in html


def test_deleting_a_topic_covered_meanwhile_is_refused_in_chinese(
    client: Any, tree: Tree, admin: Any
) -> None:
    # given a topic ticked for deletion, which a branch covers before the form is sent
    plan = make_plan(tree.district_a)
    rows = topic_rows(plan)
    rows[1]["DELETE"] = "on"
    record(tree.branch_a, required_topic=plan.topics.get(title="学习条例"))
    client.force_login(admin)
    # when
    response = client.post(
        reverse("study:plan_edit", args=[plan.pk]), plan_post(plan, rows, title="改了名称")
    )
    # then
    assert response.status_code == 200
    assert "专题“学习条例”已有1次活动对应，不能删除" in response.content.decode()
    plan.refresh_from_db()
    assert plan.title.startswith("学习计划") and plan.topics.count() == 2


def test_plan_edit_with_a_blank_title_shows_field_errors_and_writes_nothing(
    client: Any, tree: Tree, admin: Any
) -> None:
    plan = make_plan(tree.district_a)
    rows = topic_rows(plan)
    rows[0]["title"] = ""
    client.force_login(admin)
    html = client.post(
        reverse("study:plan_edit", args=[plan.pk]), plan_post(plan, rows, title="")
    ).content.decode()
    assert "该字段是必填项" in html
    assert "请填写专题名称；不需要的专题请勾选“删除”" in html
    assert not AuditLog.objects.filter(object_type="study.studyplan", action="update").exists()


def test_plan_detail_offers_edit_to_the_issuer_only(
    client: Any, tree: Tree, admin: Any, secretary: Any
) -> None:
    plan = make_plan(tree.district_a)
    edit = reverse("study:plan_edit", args=[plan.pk])
    client.force_login(admin)
    assert edit in client.get(reverse("study:plan_detail", args=[plan.pk])).content.decode()
    client.force_login(secretary)
    assert edit not in client.get(reverse("study:plan_detail", args=[plan.pk])).content.decode()
    assert client.get(edit).status_code == 404


# --- training classes ---------------------------------------------------------------------------


def test_class_edit_form_is_prefilled(client: Any, tree: Tree, secretary: Any) -> None:
    tc = make_class(tree.branch_a, completion_ratio=Decimal("0.75"), schedule="每周二晚")
    client.force_login(secretary)
    html = client.get(reverse("study:class_edit", args=[tc.pk])).content.decode()
    assert f'value="{tc.name}"' in html and 'value="每周二晚"' in html
    assert 'value="75"' in html and 'value="2025-03-01"' in html
    assert "主办组织：甲一支部（不可修改）" in html


def test_class_edit_saves_and_returns_to_the_class(client: Any, tree: Tree, secretary: Any) -> None:
    tc = make_class(tree.branch_a)
    client.force_login(secretary)
    response = client.post(
        reverse("study:class_edit", args=[tc.pk]),
        {
            "name": "骑手网上班（春季）",
            "start_date": "2025-03-01",
            "end_date": "2025-05-31",
            "completion_percent": 90,
            "is_online": "on",
        },
    )
    assert response["Location"] == reverse("study:class_detail", args=[tc.pk])
    tc.refresh_from_db()
    assert (tc.name, tc.end_date, tc.completion_ratio, tc.is_online) == (
        "骑手网上班（春季）",
        date(2025, 5, 31),
        Decimal("0.90"),
        True,
    )
    assert "已保存培训班“骑手网上班（春季）”" in client.get(response["Location"]).content.decode()


def test_class_edit_end_before_start_is_refused(client: Any, tree: Tree, secretary: Any) -> None:
    tc = make_class(tree.branch_a)
    client.force_login(secretary)
    html = client.post(
        reverse("study:class_edit", args=[tc.pk]),
        {"name": "班", "start_date": "2025-03-01", "end_date": "2025-02-01", "completion_percent": 80},
    ).content.decode()
    assert "结业日期不能早于开班日期" in html
    tc.refresh_from_db()
    assert tc.end_date == date(2025, 4, 30)


def test_class_edit_keeps_a_retired_site_as_a_choice(client: Any, tree: Tree, secretary: Any) -> None:
    site = make_site(tree.branch_a)
    tc = make_class(tree.branch_a, site=site)
    services.teaching_site_update(actor=None, site=site, data={"is_active": False})
    client.force_login(secretary)
    html = client.get(reverse("study:class_edit", args=[tc.pk])).content.decode()
    assert f'<option value="{site.pk}" selected>{site.name}</option>' in html


def test_class_detail_offers_edit_and_withdraw_only_to_who_may_change(
    client: Any, tree: Tree, members: dict, secretary: Any, viewer: Any
) -> None:
    tc = make_class(tree.branch_a)
    services.training_class_enroll(actor=None, training_class=tc, members=[members["zhang"]])
    detail = reverse("study:class_detail", args=[tc.pk])
    withdraw = reverse("study:class_unenroll", args=[tc.pk, members["zhang"].pk])
    client.force_login(secretary)
    html = client.get(detail).content.decode()
    assert reverse("study:class_edit", args=[tc.pk]) in html and withdraw in html
    assert 'data-confirm="确定让张三退出本培训班吗？' in html
    client.force_login(viewer)
    html = client.get(detail).content.decode()
    assert reverse("study:class_edit", args=[tc.pk]) not in html and withdraw not in html


def test_withdrawing_a_member_keeps_past_attendance_and_says_so(
    client: Any, tree: Tree, members: dict, secretary: Any
) -> None:
    tc = make_class(tree.branch_a, end_date=timezone.localdate() + timedelta(days=60))
    zhang = members["zhang"]
    services.training_class_enroll(actor=None, training_class=tc, members=[zhang, members["li"]])
    past = record(tree.branch_a, "training_session", training_class=tc)
    upcoming = record(
        tree.branch_a, "training_session", training_class=tc, start=timezone.now() + timedelta(days=7)
    )
    client.force_login(secretary)
    response = client.post(reverse("study:class_unenroll", args=[tc.pk, zhang.pk]))
    assert response["Location"] == reverse("study:class_detail", args=[tc.pk])
    assert list(tc.enrollments.values_list("member__name", flat=True)) == ["李四"]
    assert Attendance.objects.filter(activity=past, member=zhang).exists()
    assert not Attendance.objects.filter(activity=upcoming, member=zhang).exists()
    html = client.get(response["Location"]).content.decode()
    assert "张三已退出培训班；已参加课次的出勤和学时保留" in html


def test_withdrawing_needs_a_post(client: Any, tree: Tree, members: dict, secretary: Any) -> None:
    tc = make_class(tree.branch_a)
    services.training_class_enroll(actor=None, training_class=tc, members=[members["zhang"]])
    client.force_login(secretary)
    assert client.get(reverse("study:class_unenroll", args=[tc.pk, members["zhang"].pk])).status_code == 405
    assert tc.enrollments.count() == 1


def test_withdrawing_a_member_who_is_not_enrolled_is_404(
    client: Any, tree: Tree, members: dict, secretary: Any
) -> None:
    tc = make_class(tree.branch_a)
    client.force_login(secretary)
    response = client.post(reverse("study:class_unenroll", args=[tc.pk, members["zhang"].pk]))
    assert response.status_code == 404


# --- teaching sites and education bases ---------------------------------------------------------


def test_site_edit_changes_the_site_and_retires_it(client: Any, tree: Tree, secretary: Any) -> None:
    site = make_site(tree.branch_a)
    client.force_login(secretary)
    html = client.get(reverse("study:site_edit", args=[site.pk])).content.decode()
    assert f'value="{site.name}"' in html and 'name="is_active"' in html and "checked" in html
    response = client.post(
        reverse("study:site_edit", args=[site.pk]),
        {"name": "社区党校", "kind": "main", "address": "和平路1号", "capacity": 60},
    )
    assert response["Location"] == reverse("study:site_list")
    site.refresh_from_db()
    assert (site.name, site.kind, site.capacity, site.is_active) == ("社区党校", "main", 60, False)
    assert "已保存教学点“社区党校”" in client.get(response["Location"]).content.decode()


def test_site_edit_without_a_name_gives_a_field_error(client: Any, tree: Tree, secretary: Any) -> None:
    site = make_site(tree.branch_a)
    client.force_login(secretary)
    html = client.post(
        reverse("study:site_edit", args=[site.pk]), {"name": "", "kind": "site", "is_active": "on"}
    ).content.decode()
    assert "该字段是必填项" in html
    site.refresh_from_db()
    assert site.name.startswith("教学点")


def test_site_list_offers_edit_only_for_sites_the_user_may_change(
    client: Any, tree: Tree, secretary: Any, viewer: Any
) -> None:
    site = make_site(tree.branch_a)
    edit = reverse("study:site_edit", args=[site.pk])
    client.force_login(secretary)
    assert edit in client.get(reverse("study:site_list")).content.decode()
    client.force_login(viewer)
    html = client.get(reverse("study:site_list")).content.decode()
    assert site.name in html and edit not in html


def test_base_edit_saves_and_returns_to_the_base(client: Any, tree: Tree, secretary: Any) -> None:
    base = make_base(tree.branch_a)
    client.force_login(secretary)
    response = client.post(
        reverse("study:base_edit", args=[base.pk]),
        {"name": "革命纪念馆", "base_type": "廉政教育基地", "description": "简介", "is_active": "on"},
    )
    assert response["Location"] == reverse("study:base_detail", args=[base.pk])
    base.refresh_from_db()
    assert (base.name, base.base_type, base.description, base.is_active) == (
        "革命纪念馆",
        "廉政教育基地",
        "简介",
        True,
    )
    assert "已保存教育基地“革命纪念馆”" in client.get(response["Location"]).content.decode()


def test_base_detail_offers_edit_only_to_who_may_change(
    client: Any, tree: Tree, secretary: Any, viewer: Any
) -> None:
    base = make_base(tree.branch_a)
    edit = reverse("study:base_edit", args=[base.pk])
    client.force_login(secretary)
    assert edit in client.get(reverse("study:base_detail", args=[base.pk])).content.decode()
    client.force_login(viewer)
    assert edit not in client.get(reverse("study:base_detail", args=[base.pk])).content.decode()
    assert client.get(edit).status_code == 403


# --- study materials ----------------------------------------------------------------------------


def test_material_edit_is_prefilled_and_saves(client: Any, tree: Tree, admin: Any) -> None:
    material = make_material(tree.district_a)
    client.force_login(admin)
    html = client.get(reverse("study:material_edit", args=[material.pk])).content.decode()
    assert f'value="{material.title}"' in html and "发放组织：甲区委（不可修改）" in html
    response = client.post(
        reverse("study:material_edit", args=[material.pk]), {"title": "应知应会手册（2024版）", "year": 2024}
    )
    assert response["Location"] == reverse("study:material_detail", args=[material.pk])
    material.refresh_from_db()
    assert (material.title, material.year) == ("应知应会手册（2024版）", 2024)


def test_material_edit_offers_a_year_outside_the_usual_range(client: Any, tree: Tree, admin: Any) -> None:
    material = services.material_create(
        actor=None, data={"organization": tree.district_a, "title": "老材料", "year": 2010}
    )
    client.force_login(admin)
    html = client.get(reverse("study:material_edit", args=[material.pk])).content.decode()
    assert '<option value="2010" selected>2010年</option>' in html


def test_material_edit_with_a_year_not_offered_gives_a_field_error(
    client: Any, tree: Tree, admin: Any
) -> None:
    material = make_material(tree.district_a)
    client.force_login(admin)
    html = client.post(
        reverse("study:material_edit", args=[material.pk]), {"title": "手册", "year": 1990}
    ).content.decode()
    assert "选择一个有效的选项" in html
    material.refresh_from_db()
    assert material.year == 2025


def test_material_detail_offers_edit_to_the_issuer_only(
    client: Any, tree: Tree, admin: Any, secretary: Any
) -> None:
    material = make_material(tree.district_a)
    edit = reverse("study:material_edit", args=[material.pk])
    client.force_login(admin)
    assert edit in client.get(reverse("study:material_detail", args=[material.pk])).content.decode()
    client.force_login(secretary)
    assert edit not in client.get(reverse("study:material_detail", args=[material.pk])).content.decode()


@pytest.mark.parametrize(
    ("url_name", "make"),
    [
        ("plan_edit", make_plan),
        ("class_edit", make_class),
        ("site_edit", make_site),
        ("base_edit", make_base),
        ("material_edit", make_material),
    ],
)
def test_edit_pages_refuse_a_user_who_may_only_view(
    client: Any, tree: Tree, viewer: Any, url_name: str, make: Any
) -> None:
    obj = make(tree.branch_a)
    client.force_login(viewer)
    assert client.get(reverse(f"study:{url_name}", args=[obj.pk])).status_code == 403
