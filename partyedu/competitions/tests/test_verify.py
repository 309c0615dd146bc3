"""The public verification page: no sign-in, only competition, award, recipient and date; a
revoked certificate says so; an unknown code is a 404 that says so."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from partyedu.competitions.services import certificate_revoke
from partyedu.testsupport.factories import make_user

from .pages import finished, lecture_award

pytestmark = pytest.mark.django_db


@pytest.fixture
def contest_done(tree):
    return finished(tree.branch_a, tree.district_b)


@pytest.fixture
def award(contest_done):
    return lecture_award(contest_done)


def test_verify_page_needs_no_sign_in(client, award):
    response = client.get(reverse("verify:certificate", args=[award.certificate.code]))
    assert response.status_code == 200
    assert "证书有效" in response.content.decode()


def test_verify_page_shows_competition_award_recipient_and_date(client, award):
    body = client.get(reverse("verify:certificate", args=[award.certificate.code])).content.decode()
    assert award.competition.title in body
    assert "优秀党课" in body
    assert award.recipient.replace("（", "（") in body or award.entry.title in body
    assert "2026年6月1日" in body


def test_verify_page_shows_nothing_personal_or_organisational(client, award):
    lecturer = award.entry.lecturer
    body = client.get(reverse("verify:certificate", args=[award.certificate.code])).content.decode()
    assert lecturer.id_number not in body
    assert lecturer.masked_id_number not in body
    assert lecturer.org_path not in body
    assert "甲一支部" not in body  # the lecturer's branch
    assert "甲区委" not in body
    assert award.basis not in body
    if lecturer.phone:
        assert lecturer.phone not in body


def test_verify_page_has_no_navigation_for_a_signed_in_user(client, tree, award):
    user = make_user("secret_admin", role="org_admin", org=tree.root)
    client.force_login(user)
    body = client.get(reverse("verify:certificate", args=[award.certificate.code])).content.decode()
    assert "secret_admin" not in body
    assert "退出登录" not in body
    assert 'class="navbar-nav' not in body


def test_code_is_matched_whatever_its_case(client, award):
    response = client.get(reverse("verify:certificate", args=[award.certificate.code.lower()]))
    assert response.status_code == 200


def test_revoked_certificate_says_revoked_with_the_date(client, award):
    certificate_revoke(actor=None, certificate=award.certificate, reason="材料失实")
    body = client.get(reverse("verify:certificate", args=[award.certificate.code])).content.decode()
    today = timezone.localdate()
    assert f"该证书已撤销（{today.year}年{today.month}月{today.day}日）" in body
    assert "证书有效" not in body
    assert "材料失实" not in body


def test_unknown_code_is_a_clear_404(client, db):
    response = client.get(reverse("verify:certificate", args=["2026NOTAREALCODE"]))
    assert response.status_code == 404
    body = response.content.decode()
    assert "证书编号不存在" in body
    assert "2026NOTAREALCODE" in body


def test_verify_form_goes_to_the_code_page(client, award):
    response = client.get(reverse("verify:form"), {"code": f"  {award.certificate.code.lower()} "})
    assert response.status_code == 302
    assert response["Location"] == reverse("verify:certificate", args=[award.certificate.code])


def test_verify_form_page_is_public(client, db):
    response = client.get(reverse("verify:form"))
    assert response.status_code == 200
    assert "证书编号" in response.content.decode()
