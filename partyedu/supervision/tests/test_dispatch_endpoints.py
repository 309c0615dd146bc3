"""Dispatch pages and API: every URL's permission cases (no role 403, role at the organisation
200, role at a sibling 404 / not listed)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from partyedu.core.testing import PostEndpointTests, PostRedirectEndpointTests, ScopedEndpointTests
from partyedu.testsupport.factories import make_org

from ..models.dispatch import Dispatch, QuarterlyNote
from ..services.dispatch import dispatch_feedback_submit, quarterly_note_publish
from .dispatch_helpers import make_dispatch

pytestmark = pytest.mark.django_db


def issued(org: Any) -> Dispatch:
    """A dispatch of the branch's district to its branches (the branch receives it)."""
    return make_dispatch(org.parent, title="标记调度任务")


def received_from_above(org: Any) -> Dispatch:
    """A dispatch of the city that only a general branch in the branch's district receives."""
    make_org(org.parent, "甲一总支", "general_branch")
    return make_dispatch(org.parent.parent, title="标记调度任务", target_level="general_branch")


class _DispatchPage(ScopedEndpointTests):
    marker_attr = "title"

    def make_object(self, org: Any) -> Any:
        return issued(org)


class TestDispatchListIssued(_DispatchPage):
    url_name = "supervision:dispatch_list"
    kind = "list"

    def url(self, obj: Any) -> str:
        return reverse("supervision:dispatch_list") + "?tab=issued"


class TestDispatchListReceived(_DispatchPage):
    url_name = "supervision:dispatch_list"
    kind = "list"
    role = "branch_admin"

    def make_object(self, org: Any) -> Any:
        return received_from_above(org)

    def url(self, obj: Any) -> str:
        return reverse("supervision:dispatch_list") + "?tab=received"


class TestDispatchCreate(ScopedEndpointTests):
    url_name = "supervision:dispatch_create"
    kind = "create"

    def make_object(self, org: Any) -> Any:
        return org

    def url(self, obj: Any) -> str:
        return reverse("supervision:dispatch_create")


class TestDispatchDetail(_DispatchPage):
    url_name = "supervision:dispatch_detail"

    def url(self, obj: Any) -> str:
        return reverse("supervision:dispatch_detail", args=[obj.pk])


class TestDispatchDetailForARecipient(TestDispatchDetail):
    role = "branch_admin"

    def make_object(self, org: Any) -> Any:
        return received_from_above(org)


class TestDispatchFeedbackForm(_DispatchPage):
    url_name = "supervision:dispatch_feedback"
    role = "branch_admin"

    def url(self, obj: Any) -> str:
        org = obj.recipients.get().organization_id
        return reverse("supervision:dispatch_feedback", args=[obj.pk, org])


class TestDispatchRemind(PostRedirectEndpointTests, _DispatchPage):
    url_name = "supervision:dispatch_remind"

    def url(self, obj: Any) -> str:
        return reverse("supervision:dispatch_remind", args=[obj.pk])


class TestDispatchExport(_DispatchPage):
    url_name = "supervision:dispatch_export"

    def url(self, obj: Any) -> str:
        return reverse("supervision:dispatch_export", args=[obj.pk])


class TestDispatchAttachment(ScopedEndpointTests):
    url_name = "supervision:dispatch_attachment"

    def make_object(self, org: Any) -> Any:
        dispatch = issued(org)
        pdf = SimpleUploadedFile("情况.pdf", b"%PDF-1.4 test", content_type="application/pdf")
        feedback = dispatch_feedback_submit(
            actor=None, dispatch=dispatch, organization=org, text="见附件", files=[pdf]
        )
        return feedback.attachments.get()

    def url(self, obj: Any) -> str:
        return reverse("supervision:dispatch_attachment", args=[obj.pk])


def publish_note(org: Any) -> QuarterlyNote:
    from django.utils import timezone

    today = timezone.localdate()
    return quarterly_note_publish(
        actor=None,
        organization=org.parent,
        year=today.year,
        quarter=(today.month - 1) // 3 + 1,
        title="标记季度反馈",
        body="本季度情况",
    )


class _QuarterlyPage(ScopedEndpointTests):
    marker_attr = "title"

    def make_object(self, org: Any) -> Any:
        return publish_note(org)


class TestQuarterlyList(_QuarterlyPage):
    url_name = "supervision:quarterly_list"
    kind = "list"

    def url(self, obj: Any) -> str:
        return reverse("supervision:quarterly_list")


class TestQuarterlyListForABranch(TestQuarterlyList):
    role = "branch_admin"


class TestQuarterlyDetail(_QuarterlyPage):
    url_name = "supervision:quarterly_detail"

    def url(self, obj: Any) -> str:
        return reverse("supervision:quarterly_detail", args=[obj.pk])


class TestQuarterlyCreate(ScopedEndpointTests):
    url_name = "supervision:quarterly_create"
    kind = "create"

    def make_object(self, org: Any) -> Any:
        return org

    def url(self, obj: Any) -> str:
        return reverse("supervision:quarterly_create")


# --- API -------------------------------------------------------------------------------------------
class _DispatchApi(_DispatchPage):
    api = True


class TestDispatchApiList(_DispatchApi):
    url_name = "api:dispatch-list"
    kind = "list"

    def url(self, obj: Any) -> str:
        return "/api/v1/dispatches/"


class TestDispatchApiDetail(_DispatchApi):
    url_name = "api:dispatch-detail"

    def url(self, obj: Any) -> str:
        return f"/api/v1/dispatches/{obj.pk}/"


class TestDispatchApiFeedback(PostEndpointTests, _DispatchApi):
    url_name = "api:dispatch-feedback"
    role = "branch_admin"

    def action_url(self, obj: Any) -> str:
        return f"/api/v1/dispatches/{obj.pk}/feedback/"

    def post_data(self, obj: Any) -> dict[str, Any]:
        return {"organization": obj.recipients.get().organization_id, "text": "已完成"}

    def _post(self, client: Any, url: str) -> Any:
        return client.post(url, getattr(self, "_data", {}), content_type="application/json")

    def test_role_at_the_org_gets_200(self, client: Any, scope_tree: Any) -> None:
        """A first answer creates the feedback: 201."""
        obj = self.make_object(scope_tree.branch_a)
        client.force_login(self.make_user(role=self.role, org=scope_tree.district_a))
        response = self._get(client, self.url(obj))
        assert response.status_code == 201
        assert response.json()["status"] == "done"
