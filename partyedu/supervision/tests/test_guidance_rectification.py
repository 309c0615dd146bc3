"""Inspections and rectification items: who records them, closing with evidence, reopening by the
issuer, the nightly due notice, to-dos, and 党课巡听 scores."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from partyedu.supervision import hooks_guidance
from partyedu.supervision.models.guidance import Inspection, LectureInspection, RectificationStatus
from partyedu.supervision.services import guidance as services
from partyedu.testsupport.factories import make_user

from .guidance_factories import SCORES, a_lecture, an_inspection, an_inspector, an_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    calls: list[dict] = []

    def notify(**kw):
        calls.append(kw)
        return len(list(kw["users"]))

    monkeypatch.setattr(services, "notify", notify)
    return calls


def test_a_team_member_records_an_inspection_of_a_covered_branch(tree):
    user = an_inspector(tree.district_a, tree.branch_a)
    inspection = services.inspection_record(
        actor=user,
        organization=tree.branch_a,
        kind="guidance",
        visited_on=timezone.localdate(),
        findings="台账不全",
    )
    assert list(inspection.inspectors.all()) == [user]


def test_an_inspection_outside_the_coverage_is_refused(tree):
    user = an_inspector(tree.district_a, tree.branch_a)
    with pytest.raises(PermissionDenied):
        services.inspection_record(
            actor=user,
            organization=tree.branch_b,
            kind="guidance",
            visited_on=timezone.localdate(),
            findings="x",
        )


def test_a_branch_secretary_may_not_inspect_their_own_branch(tree):
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    with pytest.raises(PermissionDenied):
        services.inspection_record(
            actor=secretary,
            organization=tree.branch_a,
            kind="guidance",
            visited_on=timezone.localdate(),
            findings="x",
        )


def test_a_future_visit_with_a_bad_item_writes_nothing(tree):
    with pytest.raises(ValidationError) as exc:
        services.inspection_record(
            actor=None,
            organization=tree.branch_a,
            kind="supervision",
            visited_on=timezone.localdate() + timedelta(days=1),
            findings="x",
        )
    assert "日期" in str(exc.value)
    assert not Inspection.objects.exists()


def test_an_item_without_a_due_date_rolls_the_whole_visit_back(tree):
    with pytest.raises(ValidationError) as exc:
        services.inspection_record(
            actor=None,
            organization=tree.branch_a,
            kind="supervision",
            visited_on=timezone.localdate(),
            findings="x",
            items=[{"description": "整改", "due_on": None}],
        )
    assert "第1项整改事项" in str(exc.value)
    assert not Inspection.objects.exists()


def test_raising_an_item_notifies_the_branch_secretaries(tree, sent):
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    an_item(tree.branch_a)
    assert [list(c["users"]) for c in sent] == [[secretary]]
    assert sent[0]["key"].endswith(":created")


def test_the_secretary_closes_an_item_with_a_note(tree):
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    item = services.rectification_item_close(actor=secretary, item=an_item(tree.branch_a), note="已补齐台账")
    assert item.status == RectificationStatus.CLOSED and item.closed_by == secretary


def test_closing_without_a_note_is_refused(tree):
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    item = an_item(tree.branch_a)
    with pytest.raises(ValidationError) as exc:
        services.rectification_item_close(actor=secretary, item=item, note=" ")
    assert "整改情况说明" in str(exc.value)
    item.refresh_from_db()
    assert item.status == RectificationStatus.OPEN


def test_closing_twice_is_refused(tree):
    item = an_item(tree.branch_a)
    services.rectification_item_close(actor=None, item=item, note="已整改")
    with pytest.raises(ValidationError):
        services.rectification_item_close(actor=None, item=item, note="再次")


def test_another_branch_may_not_close_the_item(tree):
    other = make_user(role="branch_admin", org=tree.branch_b)
    with pytest.raises(PermissionDenied):
        services.rectification_item_close(actor=other, item=an_item(tree.branch_a), note="x")


def test_the_issuer_reopens_with_a_reason(tree, sent):
    inspector = an_inspector(tree.district_a, tree.branch_a)
    item = services.inspection_record(
        actor=inspector,
        organization=tree.branch_a,
        kind="guidance",
        visited_on=timezone.localdate(),
        findings="x",
        items=[{"description": "整改台账", "due_on": timezone.localdate() + timedelta(days=5)}],
    ).items.get()
    services.rectification_item_close(actor=None, item=item, note="已整改")
    item = services.rectification_item_reopen(actor=inspector, item=item, reason="佐证不足")
    assert item.status == RectificationStatus.OPEN
    assert [e.kind for e in item.events.all()] == ["created", "closed", "reopened"]


def test_reopening_without_a_reason_is_refused(tree):
    item = an_item(tree.branch_a)
    services.rectification_item_close(actor=None, item=item, note="已整改")
    with pytest.raises(ValidationError):
        services.rectification_item_reopen(actor=None, item=item, reason="")


def test_the_secretary_may_not_reopen_their_own_item(tree):
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    item = an_item(tree.branch_a)
    services.rectification_item_close(actor=secretary, item=item, note="已整改")
    with pytest.raises(PermissionDenied):
        services.rectification_item_reopen(actor=secretary, item=item, reason="想重开")


def test_the_due_notice_is_sent_once_per_item(tree, sent):
    make_user(role="branch_admin", org=tree.branch_a)
    an_item(tree.branch_a, due=timezone.localdate())
    sent.clear()
    services.rectification_due_notify()
    services.rectification_due_notify()
    keys = {c["key"] for c in sent}
    assert len(keys) == 1 and next(iter(keys)).endswith(":due")


def test_the_secretary_sees_open_items_overdue_first_as_to_dos(tree):
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    today = timezone.localdate()
    later = an_item(tree.branch_a, due=today + timedelta(days=20))
    overdue = an_inspection(tree.branch_a, items=0)
    overdue_item = services.rectification_item_create(
        actor=None, inspection=overdue, description="逾期事项", due_on=overdue.visited_on
    )
    todos = list(hooks_guidance.guidance_todos(user=secretary))
    assert [t.key for t in todos] == [
        f"supervision.rectification:{overdue_item.pk}",
        f"supervision.rectification:{later.pk}",
    ]
    assert todos[0].priority == 0


def test_an_inspector_scores_a_lecture_once_and_may_change_it(tree):
    inspector = an_inspector(tree.district_a, tree.branch_a)
    lecture = a_lecture(tree.branch_a)
    services.lecture_inspection_record(actor=inspector, lecture=lecture, scores=SCORES)
    row = services.lecture_inspection_record(
        actor=inspector, lecture=lecture, scores={**SCORES, "order_score": 2}
    )
    assert LectureInspection.objects.count() == 1 and row.total == 15


def test_a_score_out_of_range_names_the_rubric_item(tree):
    inspector = an_inspector(tree.district_a, tree.branch_a)
    with pytest.raises(ValidationError) as exc:
        services.lecture_inspection_record(
            actor=inspector, lecture=a_lecture(tree.branch_a), scores={**SCORES, "delivery_score": 6}
        )
    assert "讲授效果" in str(exc.value)
    assert not LectureInspection.objects.exists()


def test_a_member_may_not_score_as_inspector(tree):
    member = make_user(role="branch_admin", org=tree.branch_a)
    with pytest.raises(PermissionDenied):
        services.lecture_inspection_record(actor=member, lecture=a_lecture(tree.branch_a), scores=SCORES)


def test_a_lecture_not_yet_given_cannot_be_scored(tree):
    inspector = an_inspector(tree.district_a, tree.branch_a)
    lecture = a_lecture(tree.branch_a, start=timezone.now() + timedelta(days=3))
    with pytest.raises(ValidationError):
        services.lecture_inspection_record(actor=inspector, lecture=lecture, scores=SCORES)


def test_the_lecture_page_shows_the_scores_apart_to_the_inspector(client, tree):
    inspector = an_inspector(tree.district_a, tree.branch_a)
    lecture = a_lecture(tree.branch_a)
    services.lecture_inspection_record(
        actor=inspector, lecture=lecture, scores=SCORES, comment="联系实际较好"
    )
    client.force_login(inspector)
    page = client.get(reverse("lectures:lecture_detail", args=[lecture.pk])).content.decode()
    assert 'data-testid="listen-panel"' in page and "联系实际较好" in page


def test_a_member_does_not_see_the_inspection_panel(client, tree):
    lecture = a_lecture(tree.branch_a)
    services.lecture_inspection_record(
        actor=an_inspector(tree.district_a, tree.branch_a),
        lecture=lecture,
        scores=SCORES,
        comment="巡听意见甲",
    )
    client.force_login(make_user(role="member", org=tree.branch_a))
    response = client.get(reverse("lectures:lecture_detail", args=[lecture.pk]))
    assert "巡听意见甲" not in response.content.decode()
