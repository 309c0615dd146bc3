"""The writes of 双报到 and volunteer service: agreements and their three lists, registration of
in-service members (one in force), service records (no future day, ≤ 24 hours a day) and their
confirmation by the community side, volunteer activities with sign-up. Bad input leaves nothing
written."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.http import Http404
from django.utils import timezone

from partyedu.core.models import AuditLog
from partyedu.learning.models import LearningHourEntry
from partyedu.service.choices import ItemStatus, RecordStatus
from partyedu.service.models import Agreement, AgreementItem, Registration, ServiceRecord, VolunteerActivity
from partyedu.service.services import registration as services
from partyedu.study.models import Attendance
from partyedu.testsupport.factories import make_member, make_org, make_user

from .test_registration_factories import (
    TODAY,
    attend,
    make_units,
    member_user,
    past_volunteer,
    record,
    register,
    volunteer,
)

pytestmark = pytest.mark.django_db


# --- agreements -------------------------------------------------------------------------------------


def test_a_unit_signs_an_agreement_with_a_community_of_the_tree_and_fills_its_three_lists(tree):
    units = make_units(tree)
    admin = make_user(role="branch_admin", org=units.bureau)
    agreement = services.agreement_create(
        actor=admin, organization=units.bureau, data={"community": units.community.pk, "signed_on": TODAY}
    )
    for kind, title in (
        ("need", "老旧小区加装电梯政策宣传"),
        ("resource", "科技志愿服务队"),
        ("project", "科普进社区"),
    ):
        services.agreement_item_save(actor=admin, agreement=agreement, data={"kind": kind, "title": title})
    project = AgreementItem.objects.get(kind="project")
    services.agreement_item_save(
        actor=admin, agreement=agreement, item=project, data={"owner": "王伟", "status": ItemStatus.DONE}
    )
    project.refresh_from_db()
    assert project.owner == "王伟" and project.done_on == TODAY
    assert agreement.community_label == units.community.name
    assert sorted(AgreementItem.objects.values_list("kind", flat=True)) == ["need", "project", "resource"]


def test_an_agreement_names_exactly_one_community(tree):
    units = make_units(tree)
    with pytest.raises(ValidationError) as both:
        services.agreement_create(
            actor=None,
            organization=units.bureau,
            data={"community": units.community.pk, "community_name": "外市某社区", "signed_on": TODAY},
        )
    with pytest.raises(ValidationError) as neither:
        services.agreement_create(actor=None, organization=units.bureau, data={"signed_on": TODAY})
    assert "community" in both.value.message_dict and "community" in neither.value.message_dict
    assert not Agreement.objects.exists()


def test_an_agreement_with_an_outside_community_by_name(tree):
    units = make_units(tree)
    agreement = services.agreement_create(
        actor=None,
        organization=units.bureau,
        data={"community_name": "历下区文化东路社区", "signed_on": TODAY},
    )
    assert agreement.community_id is None and agreement.community_label == "历下区文化东路社区"


def test_an_agreement_with_an_organisation_that_is_no_community_is_refused(tree):
    units = make_units(tree)
    with pytest.raises(ValidationError) as exc:
        services.agreement_create(
            actor=None, organization=units.bureau, data={"community": tree.district_b.pk, "signed_on": TODAY}
        )
    assert "不是社区党组织" in exc.value.message_dict["community"][0]


def test_a_sibling_admin_may_not_sign_for_the_unit(tree):
    units = make_units(tree)
    stranger = make_user(role="branch_admin", org=tree.district_b)
    with pytest.raises(PermissionDenied):
        services.agreement_create(
            actor=stranger,
            organization=units.bureau,
            data={"community": units.community.pk, "signed_on": TODAY},
        )


# --- registration -----------------------------------------------------------------------------------


def test_an_in_service_member_registers_themself(tree):
    units = make_units(tree)
    user, member = member_user(units.bureau, "张伟")
    registration = services.registration_create(
        actor=user, member=member, community=units.community, post="楼栋联络员"
    )
    assert registration.ended_on is None and registration.registered_by == user
    assert AuditLog.objects.filter(
        object_type="service.registration", object_id=str(registration.pk)
    ).exists()


def test_a_retiree_registering_as_in_service_is_refused_naming_member(tree):
    units = make_units(tree)
    user, member = member_user(units.bureau, "李老", categories=["retired"])
    with pytest.raises(ValidationError) as exc:
        services.registration_create(actor=user, member=member, community=units.community, post="宣传员")
    assert "离退休" in exc.value.message_dict["member"][0]
    assert not Registration.objects.exists()


def test_a_member_without_the_in_service_category_is_refused(tree):
    units = make_units(tree)
    user, member = member_user(units.bureau, "赵某", categories=[])
    with pytest.raises(ValidationError) as exc:
        services.registration_create(actor=user, member=member, community=units.community, post="宣传员")
    assert "在职" in exc.value.message_dict["member"][0]


def test_a_member_may_not_register_someone_else(tree):
    units = make_units(tree)
    user, _me = member_user(units.bureau, "甲")
    _other_user, other = member_user(units.bureau, "乙")
    with pytest.raises(Http404):
        services.registration_create(actor=user, member=other, community=units.community, post="宣传员")
    assert not Registration.objects.exists()


def test_the_secretary_registers_a_member_of_the_branch(tree):
    units = make_units(tree)
    secretary = make_user(role="branch_admin", org=units.bureau)
    member = make_member(units.bureau, "王芳", categories=["employed"])
    registration = services.registration_create(
        actor=secretary, member=member, community_name="外市某社区", post="文明劝导员"
    )
    assert registration.community_label == "外市某社区"


def test_one_registration_in_force_and_changing_it_is_explicit(tree):
    units = make_units(tree)
    user, member = member_user(units.bureau, "张伟")
    first = register(member, units.community, registered_on=TODAY - timedelta(days=30))
    with pytest.raises(ValidationError) as exc:
        services.registration_create(actor=user, member=member, community_name="新社区", post="宣传员")
    assert "变更报到" in exc.value.message_dict["member"][0]
    second = services.registration_create(
        actor=user, member=member, community_name="新社区", post="宣传员", replace=True
    )
    first.refresh_from_db()
    assert first.ended_on == TODAY and second.ended_on is None
    assert Registration.objects.filter(member=member, ended_on__isnull=True).count() == 1


def test_a_project_of_the_unit_gives_the_community(tree):
    units = make_units(tree)
    agreement = services.agreement_create(
        actor=None, organization=units.bureau, data={"community": units.community.pk, "signed_on": TODAY}
    )
    project = services.agreement_item_save(
        actor=None, agreement=agreement, data={"kind": "project", "title": "科普进社区"}
    )
    user, member = member_user(units.bureau, "张伟")
    registration = services.registration_create(actor=user, member=member, agreement_item=project.pk)
    assert registration.community == units.community and registration.agreement_item == project


def test_a_project_of_another_unit_is_refused(tree):
    units = make_units(tree)
    other_unit = make_org(tree.district_b, "乙区机关党支部", "branch", "organ")
    agreement = services.agreement_create(
        actor=None, organization=other_unit, data={"community": units.community.pk, "signed_on": TODAY}
    )
    project = services.agreement_item_save(
        actor=None, agreement=agreement, data={"kind": "project", "title": "项目"}
    )
    user, member = member_user(units.bureau, "张伟")
    with pytest.raises(ValidationError) as exc:
        services.registration_create(actor=user, member=member, agreement_item=project.pk)
    assert "agreement_item" in exc.value.message_dict


# --- service records --------------------------------------------------------------------------------


def test_a_record_in_the_future_is_refused_naming_date(tree):
    units = make_units(tree)
    user, member = member_user(units.bureau, "张伟")
    with pytest.raises(ValidationError) as exc:
        services.service_record_create(
            actor=user, member=member, date=TODAY + timedelta(days=1), hours="2", kind="policy"
        )
    assert exc.value.message_dict["date"] == ["服务日期不能晚于今天"]
    assert not ServiceRecord.objects.exists()


def test_more_than_24_hours_a_day_in_total_is_refused_naming_hours(tree):
    units = make_units(tree)
    _user, member = member_user(units.bureau, "张伟")
    record(member, "20", days_ago=2)
    with pytest.raises(ValidationError) as exc:
        record(member, "4.5", days_ago=2)
    assert "超过每天24小时" in exc.value.message_dict["hours"][0]
    record(member, "4", days_ago=2)  # exactly 24
    assert ServiceRecord.objects.filter(member=member).aggregate(s=Sum("hours"))["s"] == Decimal("24")


def test_rejected_records_do_not_count_toward_the_day(tree):
    units = make_units(tree)
    _user, member = member_user(units.bureau, "张伟")
    big = record(member, "20")
    services.service_record_reject(actor=None, record=big, reason="与实际不符")
    record(member, "10")
    assert ServiceRecord.objects.filter(member=member).count() == 2


@pytest.mark.parametrize("hours", ["0", "0.3", "25", "abc", "NaN", "1.2"])
def test_bad_hours_are_refused(tree, hours):
    units = make_units(tree)
    _user, member = member_user(units.bureau, "张伟")
    with pytest.raises(ValidationError) as exc:
        record(member, hours)
    assert "hours" in exc.value.message_dict


def test_the_community_side_confirms_and_the_unit_may_not(tree):
    units = make_units(tree)
    _user, member = member_user(units.bureau, "张伟")
    registration = register(member, units.community, registered_on=TODAY - timedelta(days=10))
    done = record(member, registration=registration.pk)
    unit_secretary = make_user(role="branch_admin", org=units.bureau)
    with pytest.raises(PermissionDenied):
        services.service_record_confirm(actor=unit_secretary, record=done)
    community = make_user(role="branch_admin", org=units.community)
    services.service_record_confirm(actor=community, record=done)
    done.refresh_from_db()
    assert done.status == RecordStatus.CONFIRMED and done.confirmed_by == community
    services.service_record_confirm(actor=community, record=done)  # a retry changes nothing
    assert AuditLog.objects.filter(object_type="service.servicerecord", action="update").count() == 1


def test_a_record_without_a_community_in_the_tree_is_confirmed_by_the_unit(tree):
    units = make_units(tree)
    _user, member = member_user(units.bureau, "张伟")
    done = record(member)
    unit_secretary = make_user(role="branch_admin", org=units.bureau)
    services.service_record_confirm(actor=unit_secretary, record=done)
    assert ServiceRecord.objects.get().status == RecordStatus.CONFIRMED


def test_a_rejection_needs_a_reason(tree):
    units = make_units(tree)
    _user, member = member_user(units.bureau, "张伟")
    done = record(member)
    with pytest.raises(ValidationError) as exc:
        services.service_record_reject(actor=None, record=done, reason=" ")
    assert "reason" in exc.value.message_dict
    assert ServiceRecord.objects.get().status == RecordStatus.PENDING


def test_a_record_of_another_member_is_not_found(tree):
    units = make_units(tree)
    user, _member = member_user(units.bureau, "甲")
    other = make_member(units.bureau, "乙", categories=["employed"])
    with pytest.raises(Http404):
        services.service_record_create(actor=user, member=other, date=TODAY, hours="1", kind="policy")


def test_a_member_deletes_their_own_pending_record_but_not_a_confirmed_one(tree):
    units = make_units(tree)
    user, member = member_user(units.bureau, "张伟")
    pending, confirmed = record(member), record(member, days_ago=3)
    services.service_record_confirm(actor=None, record=confirmed)
    services.service_record_delete(actor=user, record=pending)
    with pytest.raises(ValidationError):
        services.service_record_delete(actor=user, record=confirmed)
    assert list(ServiceRecord.objects.values_list("pk", flat=True)) == [confirmed.pk]


# --- volunteer activities ---------------------------------------------------------------------------


def test_a_volunteer_activity_is_a_study_activity_of_type_volunteer_service_with_an_empty_roster(tree):
    units = make_units(tree)
    admin = make_user(role="branch_admin", org=units.bureau)
    found = services.volunteer_activity_create(
        actor=admin,
        organization=units.bureau,
        topic="政策宣传进小区",
        start=timezone.now() + timedelta(days=2),
        end=timezone.now() + timedelta(days=2, hours=2),
        kind="policy",
        capacity=2,
    )
    assert found.activity.activity_type == "volunteer_service"
    assert not Attendance.objects.filter(activity=found.activity).exists()


def test_members_sign_up_within_capacity(tree):
    units = make_units(tree)
    found = volunteer(units.bureau, capacity=2)
    users = [member_user(units.bureau, name) for name in ("甲", "乙", "丙")]
    for user, member in users[:2]:
        assert services.volunteer_signup(actor=user, volunteer=found, member=member).created
    user, member = users[2]
    with pytest.raises(ValidationError) as exc:
        services.volunteer_signup(actor=user, volunteer=found, member=member)
    assert "已满" in exc.value.message_dict["activity"][0]
    assert Attendance.objects.filter(activity=found.activity).count() == 2


def test_signing_up_twice_changes_nothing(tree):
    units = make_units(tree)
    found = volunteer(units.bureau, capacity=1)
    user, member = member_user(units.bureau, "甲")
    services.volunteer_signup(actor=user, volunteer=found, member=member)
    again = services.volunteer_signup(actor=user, volunteer=found, member=member)
    assert not again.created and Attendance.objects.filter(activity=found.activity).count() == 1


def test_sign_up_closes_at_the_deadline(tree):
    units = make_units(tree)
    found = volunteer(units.bureau, signup_until=timezone.now() - timedelta(minutes=1))
    user, member = member_user(units.bureau, "甲")
    with pytest.raises(ValidationError) as exc:
        services.volunteer_signup(actor=user, volunteer=found, member=member)
    assert exc.value.message_dict["activity"] == ["报名已截止"]


def test_a_member_outside_the_organisation_may_not_sign_up(tree):
    units = make_units(tree)
    found = volunteer(units.bureau)
    user, member = member_user(tree.branch_b, "乙区党员")
    with pytest.raises(ValidationError) as exc:
        services.volunteer_signup(actor=user, volunteer=found, member=member)
    assert "member" in exc.value.message_dict


def test_a_member_withdraws_before_the_deadline(tree):
    units = make_units(tree)
    found = volunteer(units.bureau)
    user, member = member_user(units.bureau, "甲")
    services.volunteer_signup(actor=user, volunteer=found, member=member)
    assert services.volunteer_withdraw(actor=user, volunteer=found, member=member)
    assert not Attendance.objects.filter(activity=found.activity).exists()


def test_attending_a_volunteer_activity_credits_no_learning_hours(tree):
    units = make_units(tree)
    found = past_volunteer(units.bureau, hours=3)
    _user, member = member_user(units.bureau, "甲")
    attend(found, member)
    assert Attendance.objects.get(activity=found.activity, member=member).status == "present"
    credited = LearningHourEntry.objects.filter(member=member).aggregate(s=Sum("hours"))["s"]
    assert not credited  # 0 学时


def test_a_volunteer_row_is_written_once(tree):
    units = make_units(tree)
    volunteer(units.bureau)
    assert VolunteerActivity.objects.count() == 1
