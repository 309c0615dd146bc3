"""A small populated tree for API-wide tests (the input limits and the schema fuzzing stage):
two callers — a city-level administrator and a branch secretary (who also judges the competition,
from 乙一支部, so the review endpoints have a row to serve) — and one row of each kind the API
serves, with the ids to address them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from partyedu.testsupport.factories import Tree, make_member, make_tree, make_user, valid_id_number

TZ = ZoneInfo("Asia/Shanghai")


@dataclass
class Populated:
    tree: Tree
    users: dict[str, Any]
    # Resource name (the first path segment after /api/v1/) → the id of a seeded row. A
    # "name:method" key gives another row for that method (DELETE takes its own activity).
    ids: dict[str, int]

    def path_id(self, method: str, path: str) -> int:
        resource = path.removeprefix("/api/v1/").split("/", 1)[0]
        if resource == "service":  # the service app's resources: "service/<name>"
            resource = "/".join(path.removeprefix("/api/v1/").split("/", 2)[:2])
        return self.ids.get(f"{resource}:{method.lower()}") or self.ids[resource]


def populate() -> Populated:
    from partyedu.accounts.services import api_token_issue, role_assign
    from partyedu.competitions.models import Review
    from partyedu.competitions.services import (
        competition_create,
        entry_create,
        round_assign,
        round_create,
        round_reviewers_set,
    )
    from partyedu.exams.services import attempt_start, bank_create, exam_create, question_create
    from partyedu.learning.models import OnlineResource
    from partyedu.lectures.services import lecture_record, lecturer_create
    from partyedu.study.services import activity_record, attendance_mark
    from partyedu.supervision.services import guidance as guidance_services
    from partyedu.supervision.services.assessment import (
        IndicatorData,
        assessment_scheme_create,
        assessment_score,
    )
    from partyedu.supervision.services.dispatch import dispatch_create
    from partyedu.supervision.services.reports import report_generate

    tree = make_tree()
    users = {
        "city_admin": make_user("city_admin", role="org_admin", org=tree.root),
        "branch_secretary": make_user("branch_secretary", role="branch_admin", org=tree.branch_a),
    }
    zhang = make_member(tree.branch_a, "张三")
    li = make_member(tree.branch_a, "李四")
    make_member(tree.group_a, "王五")
    make_member(tree.branch_b, "赵六")

    start = datetime(2026, 3, 6, 14, 30, tzinfo=TZ)
    activity = activity_record(
        actor=None,
        data={
            "organization": tree.branch_a,
            "activity_type": "party_lecture",
            "topic": "学习党章",
            "start": start,
            "end": start + timedelta(hours=2),
        },
    )
    attendance_mark(
        actor=None,
        activity=activity,
        records=[{"member": zhang.pk, "status": "present"}, {"member": li.pk, "status": "absent"}],
    )
    # DELETE gets an activity of its own, so it cannot take the first one from later requests.
    disposable = activity_record(
        actor=None,
        data={
            "organization": tree.branch_a,
            "activity_type": "theme_day",
            "topic": "主题党日",
            "start": start + timedelta(days=7),
            "end": start + timedelta(days=7, hours=2),
        },
    )
    speaker = lecturer_create(actor=None, data={"organization": tree.branch_a, "member": zhang.pk})
    lecture = lecture_record(
        actor=None, activity=activity, data={"title": "学习党章", "lecturers": [speaker.pk]}
    )
    competition = competition_create(
        actor=None,
        data={
            "title": "优秀党课评选",
            "organization": tree.root,
            "criteria": [{"name": "内容", "weight": 60}, {"name": "表达", "weight": 40}],
        },
    )
    round_ = round_create(actor=None, competition=competition, data={"name": "初评", "reviews_per_entry": 1})
    for title, lecturer in (("党课一", zhang), ("党课二", li)):
        entry_create(
            actor=None,
            competition=competition,
            data={"title": title, "lecturer": lecturer, "organization": tree.branch_a},
        )
    judge = users["branch_secretary"]
    role_assign(actor=None, user=judge, role_code="reviewer", organization=tree.branch_b)
    round_reviewers_set(actor=None, round_=round_, users=[judge])
    round_assign(actor=None, round_=round_)
    resource = OnlineResource.objects.create(
        organization=tree.root, title="学习资源", kind="article", body="正文", duration_seconds=600
    )
    # Supervision: a monthly report of 甲一支部, an assessment scheme of the city (scored), a
    # dispatch from the city to its branches, and a guidance team of 甲区委 covering 甲一支部 with
    # an inspection there that has one open rectification item.
    report, _created = report_generate(actor=None, organization=tree.branch_a, year=2026, month=3)
    scheme = assessment_scheme_create(
        actor=None,
        organization=tree.root,
        year=2026,
        title="年度考评",
        indicators=[
            IndicatorData(name="书记讲党课", kind="derived", metric="lecture_duty", weight=50),
            IndicatorData(name="特色工作", kind="manual", weight=50),
        ],
    )
    assessment_score(actor=None, scheme=scheme)
    dispatch = dispatch_create(
        actor=None,
        organization=tree.root,
        title="学习四中全会精神",
        due=timezone.localdate() + timedelta(days=7),
        target_level="branch",
    )
    team = guidance_services.guidance_team_create(
        actor=None, organization=tree.district_a, name="第一巡回指导组", year=timezone.localdate().year
    )
    guidance_services.guidance_coverage_add(actor=None, team=team, organization=tree.branch_a)
    today = timezone.localdate()
    inspection = guidance_services.inspection_record(
        actor=None,
        organization=tree.branch_a,
        kind="supervision",
        visited_on=today - timedelta(days=3),
        findings="检查发现的问题",
        team=team,
        items=[{"description": "整改事项", "due_on": today + timedelta(days=10)}],
    )
    # Exams: a city bank with a question, an exam of 甲区委 over it and one member's attempt.
    bank = bank_create(actor=None, organization=tree.root, title="全市题库")
    question = question_create(
        actor=None,
        bank=bank,
        data={"qtype": "single", "stem": "党的最高理想", "options": ["甲", "乙"], "answer": "B"},
    )
    exam = exam_create(
        actor=None,
        organization=tree.district_a,
        data={
            "title": "党章知识测试",
            "opens_at": timezone.now() - timedelta(hours=1),
            "closes_at": timezone.now() + timedelta(days=1),
            "questions": [{"question": question.pk, "score": 100}],
        },
    )
    examinee = make_user("examinee", role="member", org=tree.branch_a)
    zhang.user = examinee
    zhang.save(update_fields=["user"])
    attempt = attempt_start(actor=examinee, exam=exam)
    from partyedu.points.services import scheme_create as points_scheme_create

    points_scheme = points_scheme_create(
        actor=None,
        organization=tree.root,
        year=timezone.localdate().year,
        base="60",
        items=[
            {
                "code": "award",
                "name": "书记加分",
                "kind": "earn",
                "source": "manual",
                "points": "0",
                "cap": "10",
            }
        ],
    )
    from partyedu.appraisal.services import appraisal_create

    appraisal = appraisal_create(actor=None, organization=tree.branch_a, year=timezone.localdate().year)
    from partyedu.development.services import case_create

    # Development: an application to 甲一支部 received 40 days ago (its talk is overdue).
    development_case = case_create(
        actor=None,
        data={
            "organization": tree.branch_a,
            "name": "申请人",
            "id_number": valid_id_number(date(2001, 7, 9)),
            "applied_on": today - timedelta(days=40),
        },
    )
    # Service (community area): an open centre of 甲区委 with a room booked by 甲一支部, a pledge.
    from partyedu.service.services.community import booking_create, centre_create, pledge_create, room_create

    centre = centre_create(actor=None, organization=tree.district_a, name="党群活动服务中心")
    room = room_create(actor=None, centre=centre, name="多功能厅", capacity=50)
    slot_start = timezone.make_aware(datetime.combine(today + timedelta(days=3), time(9)))
    booking = booking_create(
        actor=None,
        room=room,
        organization=tree.branch_a,
        start=slot_start,
        end=slot_start + timedelta(hours=2),
        attendees=20,
        purpose="主题党日",
    )
    pledge = pledge_create(actor=None, organization=tree.branch_a, title="楼道照明改造", due=today)
    # Service (registration and care areas): a service record of 张三 waiting for confirmation,
    # and aid above the threshold waiting for the level above's approval.
    from partyedu.service.services import care_visit_record, service_record_create

    service_record = service_record_create(
        actor=None,
        member=zhang,
        date=today - timedelta(days=1),
        hours="2",
        kind="policy",
        description="政策宣传",
    )
    care_visit = care_visit_record(
        actor=None,
        member=zhang,
        date=today - timedelta(days=1),
        aid_kind="cash",
        amount="800",
        fund_source="dues",
    )
    ids = {
        "service/records": service_record.pk,
        "service/care-visits": care_visit.pk,
        "service/centres": centre.pk,
        "service/bookings": booking.pk,
        "service/pledges": pledge.pk,
        "activities": activity.pk,
        "activities:delete": disposable.pk,
        "members": zhang.pk,
        "organizations": tree.branch_a.pk,
        "competitions": competition.pk,
        "rounds": round_.pk,
        "lecturers": speaker.pk,
        "lectures": lecture.pk,
        "resources": resource.pk,
        "reports": report.pk,
        "assessments": scheme.pk,
        "dispatches": dispatch.pk,
        "guidance-teams": team.pk,
        "inspections": inspection.pk,
        "rectification-items": inspection.items.get().pk,
        "question-banks": bank.pk,
        "questions": question.pk,
        "exams": exam.pk,
        "attempts": attempt.pk,
        "points": points_scheme.pk,
        "appraisals": appraisal.pk,
        "development": development_case.pk,
        "reviews": Review.objects.filter(reviewer=judge).values_list("pk", flat=True)[0],
        # /auth/tokens/{id}/: a token of city_admin that is not the one the stage signs in with.
        "auth": api_token_issue(user=users["city_admin"], name="fuzz target")[0].pk,
    }
    return Populated(tree, users, ids)


@pytest.fixture
def populated(db: Any) -> Populated:
    return populate()
