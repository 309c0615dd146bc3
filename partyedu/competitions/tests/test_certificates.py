"""Certificate PDFs: A4 landscape, the code in the file, a QR of the verification page, and who
may download one."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from reportlab.lib.pagesizes import A4, landscape

from partyedu.competitions.certificates import certificate_pdf
from partyedu.competitions.services import certificate_revoke
from partyedu.testsupport.factories import make_user

from .pages import finished, lecture_award

pytestmark = pytest.mark.django_db


@pytest.fixture
def award(tree):
    return lecture_award(finished(tree.branch_a, tree.district_b))


def test_certificate_download_is_a_pdf_with_its_code(client, tree, award):
    client.force_login(make_user(role="org_admin", org=tree.root))
    response = client.get(reverse("competitions:certificate_download", args=[award.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert award.certificate.code.encode() in response.content
    assert "attachment" in response["Content-Disposition"]


def test_certificate_page_is_a4_landscape(award):
    content = certificate_pdf(award.certificate, "http://testserver/verify/X/")
    width, height = landscape(A4)
    box = re.search(rb"/MediaBox \[ 0 0 ([\d.]+) ([\d.]+) \]", content)
    assert box is not None
    assert (round(float(box.group(1))), round(float(box.group(2)))) == (round(width), round(height))


def test_certificate_uses_the_builtin_chinese_font_without_embedding_one(award):
    content = certificate_pdf(award.certificate, "http://testserver/verify/X/")
    assert b"/STSong-Light" in content
    assert b"/FontFile" not in content


def test_certificate_qr_points_to_the_absolute_verification_address(client, tree, award, monkeypatch):
    seen = []
    from partyedu.competitions import views

    def spy(certificate, url):
        seen.append(url)
        return b"%PDF-1.4"

    monkeypatch.setattr(views, "certificate_pdf", spy)
    client.force_login(make_user(role="org_admin", org=tree.root))
    client.get(reverse("competitions:certificate_download", args=[award.pk]))
    assert seen == [f"http://testserver/verify/{award.certificate.code}/"]


def test_a_revoked_certificate_is_not_downloaded(client, tree, award):
    certificate_revoke(actor=None, certificate=award.certificate, reason="材料失实")
    client.force_login(make_user(role="org_admin", org=tree.root))
    response = client.get(reverse("competitions:certificate_download", args=[award.pk]), follow=True)
    assert "已撤销，不能再下载" in response.content.decode()
    assert response["Content-Type"].startswith("text/html")


def test_a_reviewer_cannot_download_certificates(client, tree, award):
    client.force_login(make_user(role="reviewer", org=tree.root))
    assert client.get(reverse("competitions:certificate_download", args=[award.pk])).status_code == 404
