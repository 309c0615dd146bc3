"""Managing a published resource: the edit page, withdrawing it (下架), and deleting one that
nobody has studied — one that has been studied is refused, with 下架 offered instead."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from partyedu.accounts.types import User
from partyedu.core.models import AuditLog
from partyedu.core.testing import ScopedEndpointTests
from partyedu.learning import services
from partyedu.learning.models import Column, LearningHourEntry, OnlineResource, ResourceProgress
from partyedu.testsupport.factories import Tree, make_member, make_user

from .factories import assert_ledger_equals_rebuild, local
from .media_files import mp3_bytes, upload

pytestmark = pytest.mark.django_db
WEBM = b"\x1a\x45\xdf\xa3" + b"\x00" * 64
T0 = local(2026, 4, 2, 20)


def article(org: Any, title: str = "学习园地第1期", seconds: int = 120, **extra: Any) -> OnlineResource:
    resource = services.resource_create(
        actor=None,
        organization=org,
        title=title,
        kind="article",
        body="正文",
        duration_seconds=seconds,
        **extra,
    )
    return services.resource_publish(actor=None, resource=resource)


def learner_of(org: Any, name: str = "学员") -> Any:
    member = make_member(org, name)
    user = make_user(role="member", org=org)
    member.user = user
    member.save(update_fields=["user"])
    return user


def study(user: User, resource: OnlineResource, seconds: int) -> None:
    """Heartbeats of a member who read ``seconds`` of the resource in real time."""
    services.resource_heartbeat(user=user, resource=resource, start=0, end=0, at=T0)
    services.resource_heartbeat(
        user=user, resource=resource, start=0, end=seconds, at=T0 + timedelta(seconds=seconds)
    )


def edit_url(resource: OnlineResource) -> str:
    return reverse("learning:resource_edit", args=[resource.pk])


def delete_url(resource: OnlineResource) -> str:
    return reverse("learning:resource_delete", args=[resource.pk])


def edit_form(**data: Any) -> dict[str, Any]:
    values = {"title": "学习园地第1期", "body": "正文", "duration_minutes": "2", "credit_hours": "1"}
    values.update(data)
    return values


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def admin(tree: Tree) -> Any:
    return make_user("admin_a", role="org_admin", org=tree.district_a)


# --- scope ----------------------------------------------------------------------------------------


class TestResourceEditScope(ScopedEndpointTests):
    url_name = "learning:resource_edit"

    def make_object(self, org: Any) -> OnlineResource:
        return article(org)

    def url(self, obj: OnlineResource) -> str:
        return edit_url(obj)


class TestResourceDeleteScope(ScopedEndpointTests):
    url_name = "learning:resource_delete"

    def make_object(self, org: Any) -> OnlineResource:
        return article(org)

    def url(self, obj: OnlineResource) -> str:
        return delete_url(obj)


# --- editing --------------------------------------------------------------------------------------


def test_edit_saves_and_returns_to_the_resource(client: Any, tree: Tree, admin: Any) -> None:
    resource = article(tree.branch_a)
    client.force_login(admin)
    response = client.post(
        edit_url(resource),
        edit_form(title="学习园地第2期", issue_no="2", body="新的正文", duration_minutes="5"),
    )
    assert response["Location"] == reverse("learning:resource_detail", args=[resource.pk])
    resource.refresh_from_db()
    assert (resource.title, resource.issue_no, resource.body, resource.duration_seconds) == (
        "学习园地第2期",
        2,
        "新的正文",
        300,
    )
    assert messages_of(response) == ["已保存“学习园地第2期”"]


def test_edit_can_put_the_resource_in_a_new_column(client: Any, tree: Tree, admin: Any) -> None:
    resource = article(tree.branch_a)
    client.force_login(admin)
    client.post(edit_url(resource), edit_form(new_column="教育学习园地"))
    column = Column.objects.get()
    assert column.organization == tree.branch_a
    resource.refresh_from_db()
    assert resource.column == column


def test_edit_keeps_a_column_above_the_editors_scope(client: Any, tree: Tree, admin: Any) -> None:
    column = services.column_create(actor=None, organization=tree.root, name="市委学习园地")
    resource = article(tree.branch_a, column=column)
    client.force_login(admin)
    client.post(edit_url(resource), edit_form(column=column.pk, title="改了标题"))
    resource.refresh_from_db()
    assert resource.column == column and resource.title == "改了标题"


def test_edit_of_an_article_needs_its_text(client: Any, tree: Tree, admin: Any) -> None:
    resource = article(tree.branch_a)
    client.force_login(admin)
    response = client.post(edit_url(resource), edit_form(body=""))
    assert response.status_code == 200 and "body" in response.context["form"].errors


def test_edit_of_new_hours_recredits_those_who_completed(client: Any, tree: Tree, admin: Any) -> None:
    resource = article(tree.branch_a, title="短文", seconds=2)
    study(learner_of(tree.branch_a), resource, 2)
    client.force_login(admin)
    client.post(edit_url(resource), edit_form(title="短文", duration_minutes="0.1", credit_hours="2"))
    assert sum(e.hours for e in LearningHourEntry.objects.all()) == Decimal("2")
    assert_ledger_equals_rebuild()


def test_edit_page_of_audio_shows_the_files_length_instead_of_a_field(
    client: Any, tree: Tree, admin: Any
) -> None:
    resource = services.resource_create(
        actor=None, organization=tree.branch_a, title="音频", kind="audio", file=upload("a.mp3", mp3_bytes(3))
    )
    client.force_login(admin)
    response = client.get(edit_url(resource))
    assert "duration_minutes" not in response.context["form"].fields
    assert "body" not in response.context["form"].fields
    assert "播放时长按文件实际时长计：3秒" in response.content.decode()
    client.post(edit_url(resource), {"title": "新标题", "credit_hours": "1"})
    resource.refresh_from_db()
    assert (resource.title, resource.duration_seconds) == ("新标题", 3)


def test_edit_of_a_video_of_unknown_length_needs_the_duration(client: Any, tree: Tree, admin: Any) -> None:
    resource = services.resource_create(
        actor=None,
        organization=tree.branch_a,
        title="WebM视频",
        kind="video",
        duration_seconds=600,
        file=upload("a.webm", WEBM),
    )
    client.force_login(admin)
    response = client.post(edit_url(resource), {"title": "WebM视频", "credit_hours": "1"})
    assert response.context["form"].errors["duration_minutes"] == ["请填写播放时长（分钟）"]


def test_branch_secretary_may_edit_a_resource_of_the_branch(client: Any, tree: Tree) -> None:
    resource = article(tree.branch_a)
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    assert client.get(edit_url(resource)).status_code == 200


def test_detail_shows_the_management_buttons_to_an_org_admin(client: Any, tree: Tree, admin: Any) -> None:
    resource = article(tree.branch_a)
    client.force_login(admin)
    html = client.get(reverse("learning:resource_detail", args=[resource.pk])).content.decode()
    assert edit_url(resource) in html and delete_url(resource) in html and "下架" in html


def test_detail_shows_no_delete_button_to_a_branch_secretary(client: Any, tree: Tree) -> None:
    resource = article(tree.branch_a)
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    html = client.get(reverse("learning:resource_detail", args=[resource.pk])).content.decode()
    assert edit_url(resource) in html and delete_url(resource) not in html


# --- withdrawing (下架) -----------------------------------------------------------------------------


def test_unpublishing_hides_the_resource_and_says_so(client: Any, tree: Tree, admin: Any) -> None:
    resource = article(tree.branch_a)
    client.force_login(admin)
    response = client.post(reverse("learning:resource_publish", args=[resource.pk]), {"publish": "0"})
    resource.refresh_from_db()
    assert not resource.is_published
    assert messages_of(response) == ["已下架，党员暂时看不到该资源；已计入的学时不变"]


def test_unpublishing_keeps_credited_hours(client: Any, tree: Tree, admin: Any) -> None:
    resource = article(tree.branch_a, title="短文", seconds=2)
    study(learner_of(tree.branch_a), resource, 2)
    client.force_login(admin)
    client.post(reverse("learning:resource_publish", args=[resource.pk]), {"publish": "0"})
    assert sum(e.hours for e in LearningHourEntry.objects.all()) == Decimal("1")
    assert_ledger_equals_rebuild()


def test_a_manager_of_a_sibling_cannot_unpublish(client: Any, tree: Tree) -> None:
    resource = article(tree.branch_a)
    client.force_login(make_user(role="org_admin", org=tree.district_b))
    response = client.post(reverse("learning:resource_publish", args=[resource.pk]), {"publish": "0"})
    assert response.status_code == 404
    resource.refresh_from_db()
    assert resource.is_published


# --- deleting -------------------------------------------------------------------------------------


def test_a_resource_nobody_studied_is_deleted_with_its_file(
    client: Any, tree: Tree, admin: Any, django_capture_on_commit_callbacks: Any
) -> None:
    resource = services.resource_create(
        actor=None, organization=tree.branch_a, title="音频", kind="audio", file=upload("a.mp3", mp3_bytes(1))
    )
    storage, name = resource.file.storage, resource.file.name
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(delete_url(resource), {"confirm": "on"})
    assert response["Location"] == reverse("learning:resource_list")
    assert not OnlineResource.objects.exists()
    assert not storage.exists(name)
    assert messages_of(response) == ["已删除“音频”"]


def test_delete_needs_the_confirmation(client: Any, tree: Tree, admin: Any) -> None:
    resource = article(tree.branch_a)
    client.force_login(admin)
    response = client.post(delete_url(resource), {})
    assert "请勾选确认" in response.content.decode()
    assert OnlineResource.objects.filter(pk=resource.pk).exists()


def test_delete_page_of_a_studied_resource_offers_unpublishing(client: Any, tree: Tree, admin: Any) -> None:
    resource = article(tree.branch_a)
    study(learner_of(tree.branch_a), resource, 10)
    client.force_login(admin)
    html = client.get(delete_url(resource)).content.decode()
    refused = html.split('data-testid="delete-refused"')[1].split("</div>")[0]
    assert "已有1名党员学习过该资源（0人已学完并计入学时）" in refused and "请下架" in refused
    assert reverse("learning:resource_publish", args=[resource.pk]) in html
    assert "确认删除" not in html


def test_deleting_a_studied_resource_is_refused(client: Any, tree: Tree, admin: Any) -> None:
    resource = article(tree.branch_a)
    study(learner_of(tree.branch_a), resource, 10)
    client.force_login(admin)
    response = client.post(delete_url(resource), {"confirm": "on"})
    assert response.status_code == 200
    assert "已有1名党员学习过该资源" in response.content.decode()
    assert OnlineResource.objects.filter(pk=resource.pk).exists()
    assert ResourceProgress.objects.count() == 1


def test_deleting_a_completed_resource_is_refused_and_keeps_the_hours(tree: Tree, admin: Any) -> None:
    resource = article(tree.branch_a, title="短文", seconds=2)
    study(learner_of(tree.branch_a), resource, 2)
    with pytest.raises(ValidationError) as exc:
        services.resource_delete(actor=admin, resource=resource)
    assert "1人已学完并计入学时" in exc.value.message_dict["resource"][0]
    assert "请下架" in exc.value.message_dict["resource"][0]
    assert LearningHourEntry.objects.count() == 1
    assert_ledger_equals_rebuild()


def test_a_branch_secretary_cannot_delete(client: Any, tree: Tree) -> None:
    resource = article(tree.branch_a)
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    assert client.post(delete_url(resource), {"confirm": "on"}).status_code == 403
    assert OnlineResource.objects.filter(pk=resource.pk).exists()


def test_delete_outside_the_scope_is_refused_by_the_service(tree: Tree) -> None:
    resource = article(tree.branch_a)
    with pytest.raises(PermissionDenied):
        services.resource_delete(actor=make_user(role="org_admin", org=tree.district_b), resource=resource)


def test_delete_is_audited(tree: Tree, admin: Any) -> None:
    resource = article(tree.branch_a, title="要删除的资源")
    services.resource_delete(actor=admin, resource=resource)
    log = AuditLog.objects.filter(action="delete", object_type="learning.onlineresource").get()
    assert log.object_repr == "要删除的资源" and log.changes["before"]["title"] == "要删除的资源"
