"""Lecture records: only at 党课 activities, speakers within reach, materials checked, cross
lecturing decided when a speaker is added, tasks fulfilled, and who sees which lectures."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from partyedu.core.models import AuditLog
from partyedu.lectures import services
from partyedu.lectures.models import Lecture, LectureFile, LectureSpeaker
from partyedu.lectures.selectors import lecture_activity_get, lecture_get, lecture_list
from partyedu.lectures.services import (
    lecture_delete,
    lecture_record,
    lecture_update,
    topic_assign,
    topic_call_open,
    topic_proposal_submit,
)
from partyedu.testsupport.factories import make_member, make_org, make_user

from .conftest import DOC, MP4, PDF, PPTX, at, lecture, lecturer, link, party_lecture, upload

pytestmark = pytest.mark.django_db


def test_a_lecture_is_recorded_with_speakers_and_materials(tree, secretary, members):
    activity = party_lecture(tree.branch_a)
    speaker = lecturer(tree.branch_a, members["li"])
    guest = lecturer(tree.district_a)
    record = lecture_record(
        actor=secretary,
        activity=activity,
        data={
            "title": "学习党章",
            "lecture_type": "workshop",
            "lecturers": [speaker.pk, guest.pk],
            "summary": "党章的历史",
            "files": [
                {"kind": "slides", "file": upload("党章.pptx", PPTX)},
                ("script", upload("讲稿.doc", DOC)),
                services.UploadedMaterial("video", upload("录像.mp4", MP4)),
            ],
        },
    )
    assert (record.title, record.lecture_type, record.summary) == ("学习党章", "workshop", "党章的历史")
    assert set(record.speakers.values_list("lecturer_id", flat=True)) == {speaker.pk, guest.pk}
    assert sorted(record.files.values_list("kind", "name")) == [
        ("script", "讲稿.doc"),
        ("slides", "党章.pptx"),
        ("video", "录像.mp4"),
    ]
    log = AuditLog.objects.get(object_type="lectures.lecture", action="create")
    assert log.changes["files"] == 3


def test_only_a_party_lecture_activity_takes_a_lecture(tree, secretary):
    from partyedu.study.services import activity_record

    theme_day = activity_record(
        actor=None,
        data={
            "organization": tree.branch_a,
            "activity_type": "theme_day",
            "topic": "主题党日",
            "start": at(3),
            "end": at(3, hour=16),
        },
    )
    with pytest.raises(ValidationError) as exc:
        lecture_record(actor=secretary, activity=theme_day, data={"title": "x", "lecturers": []})
    assert exc.value.message_dict["activity"] == [
        "只有“党课”类型的活动才能登记党课，该活动的类型是“主题党日”"
    ]


def test_an_activity_has_one_lecture(tree, secretary):
    activity = party_lecture(tree.branch_a)
    lecture(activity, lecturer(tree.branch_a))
    with pytest.raises(ValidationError) as exc:
        lecture_record(actor=secretary, activity=activity, data={"title": "再来", "lecturers": []})
    assert exc.value.message_dict["activity"] == ["该活动已登记党课，请在原记录上修改"]


def test_title_and_a_lecturer_are_required(tree, secretary):
    activity = party_lecture(tree.branch_a)
    with pytest.raises(ValidationError) as exc:
        lecture_record(actor=secretary, activity=activity, data={"title": "", "lecturers": []})
    assert exc.value.message_dict["title"] == ["请填写党课题目"]
    with pytest.raises(ValidationError) as exc:
        lecture_record(actor=secretary, activity=activity, data={"title": "题目", "lecturers": []})
    assert exc.value.message_dict["lecturers"] == ["请选择主讲人"]


def test_an_unknown_lecture_type_is_refused(tree, secretary):
    activity = party_lecture(tree.branch_a)
    with pytest.raises(ValidationError) as exc:
        lecture_record(
            actor=secretary,
            activity=activity,
            data={"title": "题目", "lecture_type": "opera", "lecturers": [lecturer(tree.branch_a).pk]},
        )
    assert exc.value.message_dict["lecture_type"] == ["请选择党课类型"]


def test_a_lecturer_of_a_sibling_pool_is_answered_like_an_unknown_one(tree, secretary):
    activity = party_lecture(tree.branch_a)
    other = lecturer(tree.branch_b)
    with pytest.raises(ValidationError) as exc:
        lecture_record(actor=secretary, activity=activity, data={"title": "x", "lecturers": [other.pk]})
    assert exc.value.message_dict["lecturers"] == [f"以下讲师不存在或不在您的管理范围内：ID {other.pk}"]


def test_a_lecturer_taken_out_of_the_pool_is_refused_for_a_new_lecture(tree, secretary):
    entry = lecturer(tree.branch_a, name="离库讲师")
    services.lecturer_deactivate(actor=None, lecturer=entry)
    with pytest.raises(ValidationError) as exc:
        lecture_record(
            actor=secretary,
            activity=party_lecture(tree.branch_a),
            data={"title": "x", "lecturers": [entry.pk]},
        )
    assert exc.value.message_dict["lecturers"] == ["以下讲师已移出师资库：离库讲师"]


def test_recording_at_an_activity_outside_scope_is_refused(tree, secretary):
    activity = party_lecture(tree.branch_b)
    with pytest.raises(PermissionDenied):
        lecture_record(actor=secretary, activity=activity, data={"title": "x", "lecturers": []})


def test_the_activity_page_of_a_sibling_is_404(tree, secretary):
    activity = party_lecture(tree.branch_b)
    with pytest.raises(Http404):
        lecture_activity_get(user=secretary, pk=activity.pk)


@pytest.mark.parametrize(
    ("kind", "name", "content", "message"),
    [
        ("slides", "课件.exe", PPTX, "“课件.exe”：课件只支持PPT、PPTX、PDF、ODP格式"),
        ("slides", "课件.pptx", b"MZ" + b"\x00" * 40, "“课件.pptx”的内容不是有效的PPTX文件"),
        ("script", "讲稿.pdf", PPTX, "“讲稿.pdf”的内容不是有效的PDF文件"),
        ("video", "录像.avi", MP4, "“录像.avi”：视频只支持MP4、WebM格式"),
        ("video", "录像.mp4", b"", "“录像.mp4”是空文件"),
    ],
)
def test_materials_are_checked_by_name_and_content(tree, secretary, kind, name, content, message):
    speaker = lecturer(tree.branch_a)
    with pytest.raises(ValidationError) as exc:
        lecture_record(
            actor=secretary,
            activity=party_lecture(tree.branch_a),
            data={
                "title": "x",
                "lecturers": [speaker.pk],
                "files": [{"kind": kind, "file": upload(name, content)}],
            },
        )
    assert exc.value.message_dict["files"] == [message]
    assert not Lecture.objects.exists()


def test_a_material_over_the_size_limit_is_refused(tree, secretary, monkeypatch):
    monkeypatch.setitem(services.FILE_RULES, "script", ((".pdf",), 10, "PDF"))
    with pytest.raises(ValidationError) as exc:
        lecture_record(
            actor=secretary,
            activity=party_lecture(tree.branch_a),
            data={
                "title": "x",
                "lecturers": [lecturer(tree.branch_a).pk],
                "files": [{"kind": "script", "file": upload("讲稿.pdf", PDF)}],
            },
        )
    assert exc.value.message_dict["files"] == ["“讲稿.pdf”超过0MB，请压缩后再上传"]


# --- cross lecturing -----------------------------------------------------------------------------


def _cross(activity_org, entry):
    record = lecture(party_lecture(activity_org), entry)
    return LectureSpeaker.objects.get(lecture=record, lecturer=entry).is_cross


def test_a_secretary_lecturing_in_another_branch_is_a_cross_lecture(tree, members):
    assert _cross(tree.branch_b, lecturer(tree.district_a, members["zhang"])) is True


def test_a_secretary_lecturing_in_their_own_branch_or_its_group_is_not(tree, members):
    entry = lecturer(tree.district_a, members["zhang"])
    assert _cross(tree.branch_a, entry) is False
    assert _cross(tree.group_a, entry) is False


def test_a_secretary_registered_in_a_party_group_lecturing_in_its_branch_is_not(tree):
    grouped = make_member(tree.group_a, "组内书记", categories=["secretary"])
    assert _cross(tree.branch_a, lecturer(tree.district_a, grouped)) is False


def test_a_leading_cadre_lecturing_in_a_branch_of_the_district_is_a_cross_lecture(tree):
    office = make_org(tree.district_a, "区委机关支部")
    cadre = make_member(office, "区委书记", categories=["leader"])
    assert _cross(tree.branch_a, lecturer(tree.district_a, cadre)) is True


def test_an_ordinary_member_or_an_outside_lecturer_is_never_cross(tree, members):
    assert _cross(tree.branch_b, lecturer(tree.district_a, members["li"])) is False
    assert _cross(tree.branch_b, lecturer(tree.root, name="党校教师")) is False


def test_cross_flags_of_kept_speakers_stay_when_speakers_change(tree, admin, members):
    zhang = lecturer(tree.district_a, members["zhang"])
    record = lecture(party_lecture(tree.branch_b), zhang)
    members["zhang"].categories = []
    members["zhang"].save(update_fields=["categories"])
    li = lecturer(tree.district_a, members["li"])
    lecture_update(actor=None, lecture=record, data={"lecturers": [zhang.pk, li.pk]})
    flags = dict(record.speakers.values_list("lecturer_id", "is_cross"))
    assert flags == {zhang.pk: True, li.pk: False}


# --- update and delete ---------------------------------------------------------------------------


def test_update_replaces_speakers_and_files(tree, secretary, django_capture_on_commit_callbacks):
    a, b = lecturer(tree.branch_a, name="甲讲师"), lecturer(tree.branch_a, name="乙讲师")
    record = lecture(
        party_lecture(tree.branch_a), a, files=[{"kind": "slides", "file": upload("a.pdf", PDF)}]
    )
    old = record.files.get()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        lecture_update(
            actor=secretary,
            lecture=record,
            data={
                "title": "新题目",
                "lecturers": [b.pk],
                "remove_files": [old.pk],
                "files": [{"kind": "script", "file": upload("b.txt", b"hello")}],
            },
        )
    record.refresh_from_db()
    assert record.title == "新题目"
    assert list(record.speakers.values_list("lecturer_id", flat=True)) == [b.pk]
    assert list(record.files.values_list("name", flat=True)) == ["b.txt"]
    assert len(callbacks) == 1
    assert not old.file.storage.exists(old.file.name)
    log = AuditLog.objects.get(object_type="lectures.lecture", action="update")
    assert log.changes["lecturers"] == {"added": [b.pk], "removed": [a.pk]}


def test_update_and_delete_outside_scope_are_refused(tree, members):
    record = lecture(party_lecture(tree.branch_a), lecturer(tree.branch_a))
    other = make_user(role="org_admin", org=tree.district_b)
    with pytest.raises(PermissionDenied):
        lecture_update(actor=other, lecture=record, data={"title": "x"})
    with pytest.raises(PermissionDenied):
        lecture_delete(actor=other, lecture=record)


def test_a_branch_secretary_may_not_delete(tree, secretary):
    record = lecture(party_lecture(tree.branch_a), lecturer(tree.branch_a))
    with pytest.raises(PermissionDenied):
        lecture_delete(actor=secretary, lecture=record)


def test_delete_removes_the_lecture_and_its_files_but_keeps_the_activity(
    tree, admin, django_capture_on_commit_callbacks
):
    record = lecture(
        party_lecture(tree.branch_a),
        lecturer(tree.branch_a),
        files=[{"kind": "slides", "file": upload("a.pdf", PDF)}],
    )
    stored = record.files.get().file
    with django_capture_on_commit_callbacks(execute=True):
        lecture_delete(actor=admin, lecture=record)
    assert not Lecture.objects.exists() and not LectureFile.objects.exists()
    assert not stored.storage.exists(stored.name)
    assert record.activity.__class__.objects.filter(pk=record.activity_id).exists()


# --- topic tasks ---------------------------------------------------------------------------------


def _task(tree, admin, org):
    call = topic_call_open(
        actor=admin, organization=tree.district_a, title="征集", deadline=at(12).date().replace(year=2099)
    )
    proposal = topic_proposal_submit(actor=admin, call=call, organization=tree.branch_a, title="乡村振兴")
    return topic_assign(actor=admin, proposal=proposal, organization=org)


def test_a_lecture_on_an_assigned_topic_marks_the_task_done_and_deleting_reopens_it(tree, admin):
    task = _task(tree, admin, tree.branch_a)
    record = lecture_record(
        actor=admin,
        activity=party_lecture(tree.branch_a),
        data={"title": "乡村振兴", "lecturers": [lecturer(tree.branch_a).pk], "task": task.pk},
    )
    task.refresh_from_db()
    assert task.status == "done"
    lecture_delete(actor=admin, lecture=record)
    task.refresh_from_db()
    assert task.status == "assigned"


def test_changing_the_task_reopens_the_old_one(tree, admin):
    first, second = _task(tree, admin, tree.branch_a), _task(tree, admin, tree.district_a)
    record = lecture(party_lecture(tree.branch_a), lecturer(tree.branch_a), task=first.pk)
    lecture_update(actor=admin, lecture=record, data={"task": second.pk})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("assigned", "done")


def test_a_task_already_done_cannot_be_fulfilled_again(tree, admin):
    task = _task(tree, admin, tree.branch_a)
    lecture(party_lecture(tree.branch_a), lecturer(tree.branch_a), task=task.pk)
    with pytest.raises(ValidationError) as exc:
        lecture(party_lecture(tree.branch_a), lecturer(tree.branch_a), task=task.pk)
    assert exc.value.message_dict["task"] == ["点题任务“乡村振兴”已讲授，不能再对应新的党课"]


# --- who sees which lectures ---------------------------------------------------------------------


def test_a_member_sees_the_lectures_they_were_expected_at_or_gave(tree, members):
    li = link(members["li"])
    own_branch = lecture(party_lecture(tree.branch_a), lecturer(tree.branch_a))
    given = lecture(party_lecture(tree.branch_b), lecturer(tree.district_a, members["li"]))
    lecture(party_lecture(tree.branch_b), lecturer(tree.branch_b))
    assert set(lecture_list(user=li)) == {own_branch, given}
    assert lecture_get(user=li, pk=given.pk) == given


def test_an_administrator_sees_the_lectures_of_their_subtree(tree, admin):
    mine = lecture(party_lecture(tree.group_a), lecturer(tree.branch_a))
    lecture(party_lecture(tree.branch_b), lecturer(tree.branch_b))
    assert list(lecture_list(user=admin)) == [mine]


def test_lecture_list_filters(tree, admin, members):
    zhang = lecturer(tree.district_a, members["zhang"])
    cross = lecture(party_lecture(tree.branch_b, at(5)), zhang)
    root_admin = make_user(role="org_admin", org=tree.root)
    rural = lecture(
        party_lecture(tree.branch_a, at(3)), lecturer(tree.branch_a), lecture_type="rural", title="田间党课"
    )
    old = lecture(party_lecture(tree.branch_a, at(3, year=2024)), zhang)
    assert list(lecture_list(user=root_admin, filters={"cross": True})) == [cross]
    assert list(lecture_list(user=root_admin, filters={"lecture_type": "rural"})) == [rural]
    assert list(lecture_list(user=root_admin, filters={"year": 2024})) == [old]
    assert list(lecture_list(user=root_admin, filters={"q": "田间"})) == [rural]
    assert list(lecture_list(user=root_admin, filters={"lecturer": zhang.pk})) == [cross, old]
    assert list(lecture_list(user=root_admin, filters={"organization": tree.district_b})) == [cross]
