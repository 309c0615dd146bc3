"""不予批准: the level above refuses aid above the threshold with a reason — in the service, on the
pending list (``service:care_visit_reject``) and in the API
(``POST /api/v1/service/care-visits/{id}/reject/``). A refused visit is no longer pending, never
counts, and can no longer be approved."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from openpyxl import load_workbook

from partyedu.core.models import AuditLog
from partyedu.core.testing import PostEndpointTests, PostRedirectEndpointTests
from partyedu.service.models import CareVisit
from partyedu.service.selectors_care import care_totals, care_visit_list, pending_approvals
from partyedu.service.services import care_visit_reject as exported_reject
from partyedu.service.services.care import care_export, care_visit_approve, care_visit_reject
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import make_member, make_user

from .test_care_factories import make_visit, yesterday

pytestmark = pytest.mark.django_db

VISITS = "/api/v1/service/care-visits/"
REASON = "资金来源不符合规定"


def big_visit(tree, name: str = "刘老党员") -> CareVisit:
    """A visit of 甲一支部 above the default threshold (¥500): waiting for 甲区委."""
    return make_visit(make_member(tree.branch_a, name), "1200")


def district_admin(tree):
    return make_user(role="org_admin", org=tree.district_a)


# --- permissions of the new URLs ------------------------------------------------------------------


class TestCareVisitReject(PostRedirectEndpointTests):
    url_name = "service:care_visit_reject"

    def make_object(self, org):
        return make_visit(make_member(org, f"走访对象{org.pk}"), "800")

    def post_data(self, obj):
        return {"reason": REASON}

    def action_url(self, obj):
        return f"/service/care/visits/{obj.pk}/reject/"


class TestCareVisitRejectApi(PostEndpointTests):
    url_name = "api:service-care-visit-reject"
    api = True

    def make_object(self, org):
        return make_visit(make_member(org, f"走访对象{org.pk}"), "900")

    def post_data(self, obj):
        return {"reason": REASON}

    def action_url(self, obj):
        return f"{VISITS}{obj.pk}/reject/"


# --- service ------------------------------------------------------------------------------------------


def test_the_service_is_exported_with_the_others():
    assert exported_reject is care_visit_reject


def test_the_level_above_rejects_recording_the_reason_who_and_when_and_audits(tree):
    visit = big_visit(tree)
    admin = district_admin(tree)

    care_visit_reject(actor=admin, visit=visit, reason=f"  {REASON}  ")

    visit.refresh_from_db()
    assert (visit.rejected_by, visit.rejection_reason) == (admin, REASON)
    assert visit.rejected_at is not None
    assert (visit.approved_by, visit.approved_at) == (None, None)
    log = AuditLog.objects.filter(object_type="service.carevisit", object_id=str(visit.pk)).latest("id")
    assert log.action == "update"
    assert log.changes == {"rejected": [False, True], "reason": REASON}


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_rejection_needs_a_reason(tree, reason):
    visit = big_visit(tree)

    with pytest.raises(ValidationError) as caught:
        care_visit_reject(actor=district_admin(tree), visit=visit, reason=reason)

    assert caught.value.message_dict["reason"] == ["请填写不予批准的理由"]
    visit.refresh_from_db()
    assert visit.rejected_at is None


def test_a_reason_longer_than_the_field_is_refused_on_the_reason(tree):
    with pytest.raises(ValidationError) as caught:
        care_visit_reject(actor=district_admin(tree), visit=big_visit(tree), reason="理" * 201)

    assert "reason" in caught.value.message_dict


@pytest.mark.parametrize("role", ["branch_admin", "org_admin"])
def test_the_branch_itself_cannot_reject(tree, role):
    visit = big_visit(tree)

    with pytest.raises(PermissionDenied):
        care_visit_reject(actor=make_user(role=role, org=tree.branch_a), visit=visit, reason=REASON)

    visit.refresh_from_db()
    assert visit.rejected_at is None


def test_a_visit_under_the_threshold_cannot_be_rejected(tree):
    small = make_visit(make_member(tree.branch_a, "刘老党员"), "300")

    with pytest.raises(ValidationError) as caught:
        care_visit_reject(actor=district_admin(tree), visit=small, reason=REASON)

    assert caught.value.message_dict["visit"] == ["该笔帮扶未超过审批线，无需审批"]


def test_an_approved_visit_cannot_be_rejected(tree):
    visit = big_visit(tree)
    admin = district_admin(tree)
    care_visit_approve(actor=admin, visit=visit)

    with pytest.raises(ValidationError) as caught:
        care_visit_reject(actor=admin, visit=visit, reason=REASON)

    assert caught.value.message_dict["visit"] == ["该笔帮扶已经审批"]
    visit.refresh_from_db()
    assert (visit.rejected_at, visit.rejection_reason) == (None, "")


def test_a_rejected_visit_cannot_be_approved(tree):
    visit = big_visit(tree)
    admin = district_admin(tree)
    care_visit_reject(actor=admin, visit=visit, reason=REASON)

    with pytest.raises(ValidationError) as caught:
        care_visit_approve(actor=admin, visit=visit)

    assert caught.value.message_dict["visit"] == ["该笔帮扶已不予批准"]
    visit.refresh_from_db()
    assert visit.approved_at is None


def test_a_visit_cannot_be_rejected_twice(tree):
    visit = big_visit(tree)
    admin = district_admin(tree)
    care_visit_reject(actor=admin, visit=visit, reason=REASON)

    with pytest.raises(ValidationError) as caught:
        care_visit_reject(actor=admin, visit=visit, reason="另一个理由")

    assert caught.value.message_dict["visit"] == ["该笔帮扶已不予批准"]
    visit.refresh_from_db()
    assert visit.rejection_reason == REASON


def test_a_rejected_visit_is_no_longer_pending(tree):
    visit = big_visit(tree)
    admin = district_admin(tree)
    assert list(pending_approvals(user=admin)) == [visit]

    care_visit_reject(actor=admin, visit=visit, reason=REASON)

    assert list(pending_approvals(user=admin)) == []
    assert list(care_visit_list(user=admin, pending_only=True)) == []
    assert list(care_visit_list(user=admin)) == [visit]


def test_a_rejected_visit_counts_in_no_total_nor_as_pending(tree):
    member = make_member(tree.branch_a, "刘老党员")
    make_visit(member, "500")
    rejected = make_visit(member, "1200", occasion="生病探望")
    make_visit(member, "900", occasion="住院慰问")
    admin = district_admin(tree)

    care_visit_reject(actor=admin, visit=rejected, reason=REASON)

    totals = care_totals(user=admin, organization=tree.district_a, year=yesterday().year)
    assert (totals.total.payments, totals.total.amount) == (1, Decimal("500"))
    assert (totals.pending, totals.pending_amount) == (1, Decimal("900"))


def test_the_export_marks_a_rejected_visit_with_its_reason(tree):
    visit = big_visit(tree)
    care_visit_reject(actor=district_admin(tree), visit=visit, reason=REASON)

    content = care_export(actor=make_user(role="branch_admin", org=tree.branch_a), year=yesterday().year)

    rows = list(load_workbook(io.BytesIO(content))["关怀走访"].iter_rows(values_only=True))
    assert [r[8] for r in rows[1:]] == [f"不予批准（{REASON}）"]


# --- page ---------------------------------------------------------------------------------------------


def test_the_level_above_rejects_from_the_pending_list_and_sees_the_message(tree, client):
    visit = big_visit(tree)
    client.force_login(district_admin(tree))
    pending = client.get("/service/care/visits/?pending=1").content.decode()
    assert f'action="/service/care/visits/{visit.pk}/reject/"' in pending

    response = client.post(f"/service/care/visits/{visit.pk}/reject/", {"reason": REASON}, follow=True)

    assert response.redirect_chain[-1][0] == "/service/care/visits/?pending=1"
    html = response.content.decode()
    assert f"已不予批准刘老党员的帮扶1200.00元：{REASON}" in html
    assert 'data-testid="care-visit-row"' not in html
    visit.refresh_from_db()
    assert visit.rejection_reason == REASON


def test_a_rejection_without_a_reason_is_refused_on_the_page_with_a_message(tree, client):
    visit = big_visit(tree)
    client.force_login(district_admin(tree))

    response = client.post(f"/service/care/visits/{visit.pk}/reject/", {"reason": "  "}, follow=True)

    assert "请填写不予批准的理由" in response.content.decode()
    visit.refresh_from_db()
    assert visit.rejected_at is None


def test_the_branch_itself_is_refused_the_rejection_page(tree, client):
    visit = big_visit(tree)
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))

    response = client.post(f"/service/care/visits/{visit.pk}/reject/", {"reason": REASON})

    assert response.status_code == 403
    visit.refresh_from_db()
    assert visit.rejected_at is None


def test_the_visit_list_shows_each_approval_state(tree, client):
    admin = district_admin(tree)
    waiting = big_visit(tree, "待审党员")
    approved = big_visit(tree, "已批党员")
    rejected = big_visit(tree, "未批党员")
    care_visit_approve(actor=admin, visit=approved)
    care_visit_reject(actor=admin, visit=rejected, reason=REASON)
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))

    html = client.get("/service/care/visits/").content.decode()

    assert waiting.member.name in html and "待上级审批" in html
    assert "已审批" in html
    assert f"不予批准（{REASON}）" in html
    assert 'data-testid="care-visit-reject"' not in html


def test_the_level_above_sees_no_buttons_on_a_rejected_visit(tree, client):
    admin = district_admin(tree)
    care_visit_reject(actor=admin, visit=big_visit(tree), reason=REASON)
    client.force_login(admin)

    html = client.get("/service/care/visits/").content.decode()

    assert f"不予批准（{REASON}）" in html
    assert 'data-testid="care-visit-approve"' not in html
    assert 'data-testid="care-visit-reject"' not in html


# --- API ----------------------------------------------------------------------------------------------


def test_the_api_rejects_with_a_reason(tree):
    visit = big_visit(tree)

    response = api_client(district_admin(tree)).post(
        f"{VISITS}{visit.pk}/reject/", {"reason": REASON}, format="json"
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["rejected"], body["rejection_reason"]) == (True, REASON)
    assert (body["approved"], body["counted"]) == (False, False)


@pytest.mark.parametrize("data", [{"reason": ""}, {"reason": "   "}, {}])
def test_an_api_rejection_without_a_reason_is_400_naming_the_reason(tree, data):
    visit = big_visit(tree)

    response = api_client(district_admin(tree)).post(f"{VISITS}{visit.pk}/reject/", data, format="json")

    assert response.status_code == 400
    assert "reason" in response.json()["errors"]
    visit.refresh_from_db()
    assert visit.rejected_at is None


def test_the_api_refuses_the_branch_itself_a_rejection(tree):
    visit = big_visit(tree)

    response = api_client(make_user(role="branch_admin", org=tree.branch_a)).post(
        f"{VISITS}{visit.pk}/reject/", {"reason": REASON}, format="json"
    )

    assert response.status_code == 403
    visit.refresh_from_db()
    assert visit.rejected_at is None


def test_the_api_refuses_to_approve_a_rejected_visit_on_the_visit(tree):
    visit = big_visit(tree)
    admin = district_admin(tree)
    care_visit_reject(actor=admin, visit=visit, reason=REASON)

    response = api_client(admin).post(f"{VISITS}{visit.pk}/approve/")

    assert response.status_code == 400
    assert "visit" in response.json()["errors"]


def test_the_visit_list_api_outputs_the_rejection(tree):
    visit = big_visit(tree)
    care_visit_reject(actor=district_admin(tree), visit=visit, reason=REASON)

    body = api_client(make_user(role="branch_admin", org=tree.branch_a)).get(VISITS).json()

    assert [(v["rejected"], v["rejection_reason"]) for v in body["results"]] == [(True, REASON)]
    pending = api_client(make_user(role="branch_admin", org=tree.branch_a)).get(f"{VISITS}?pending=true")
    assert pending.json()["count"] == 0
