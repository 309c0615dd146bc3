"""下载全部证书: who may start it, the ZIP it builds (one PDF per valid certificate named by code
and recipient, plus one combined PDF), nothing when there is nothing valid, one job per person and
competition while unfinished, and the selection made when the job runs."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import pytest
from django.urls import reverse

from partyedu.competitions import certificates
from partyedu.competitions.certificates import COMBINED_NAME, certificate_filename
from partyedu.competitions.jobs import BATCH_KIND
from partyedu.competitions.models import Award, Certificate
from partyedu.competitions.services import certificate_revoke
from partyedu.core.choices import JobStatus
from partyedu.core.models import AuditLog, Job
from partyedu.core.testing import PostEndpointTests
from partyedu.testsupport.factories import make_user

from .pages import Contest, finished, lecture_award, outside

pytestmark = pytest.mark.django_db


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b", pdf))


def batch_url(competition_id: int) -> str:
    return reverse("competitions:certificate_batch", args=[competition_id])


def zip_of(job: Job) -> zipfile.ZipFile:
    job.refresh_from_db()
    with job.result_file.open("rb") as handle:
        return zipfile.ZipFile(io.BytesIO(handle.read()))


@pytest.fixture
def contest(tree: Any) -> Contest:
    """A finished competition at 甲一支部 with three awards (优秀党课, 优秀主讲人, 优秀组织单位)."""
    return finished(tree.branch_a, tree.district_b)


@pytest.fixture
def organiser(tree: Any) -> Any:
    return make_user(role="org_admin", org=tree.root)


def awards_of(contest: Contest) -> list[Award]:
    return list(Award.objects.filter(competition=contest.competition).select_related("certificate"))


# --- who may ------------------------------------------------------------------------------------


class TestCertificateBatchScope(PostEndpointTests):
    """As the single download: competitions.view over the organiser (a sibling gets 404)."""

    url_name = "competitions:certificate_batch"

    def make_object(self, org: Any) -> Award:
        return lecture_award(finished(org, outside(org)))

    def action_url(self, obj: Award) -> str:
        return batch_url(obj.competition_id)


def test_a_reviewer_cannot_start_the_batch(client, contest, tree):
    client.force_login(make_user(role="reviewer", org=tree.root))
    assert client.post(batch_url(contest.competition.pk)).status_code == 404
    assert not Job.objects.exists()


def test_the_batch_is_started_by_post_only(client, contest, organiser):
    client.force_login(organiser)
    assert client.get(batch_url(contest.competition.pk)).status_code == 405


def test_the_award_list_offers_the_batch(client, contest, organiser):
    client.force_login(organiser)
    html = client.get(reverse("competitions:award_list", args=[contest.competition.pk])).content.decode()
    assert batch_url(contest.competition.pk) in html and "下载全部证书" in html


# --- the ZIP ------------------------------------------------------------------------------------


def test_the_zip_holds_each_valid_certificate_and_one_combined_pdf(
    client, contest, organiser, django_capture_on_commit_callbacks
):
    # given: three awards, one certificate revoked
    awards = awards_of(contest)
    revoked = awards[0].certificate
    certificate_revoke(actor=None, certificate=revoked, reason="材料失实")
    valid = [a.certificate for a in awards[1:]]
    client.force_login(organiser)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(batch_url(contest.competition.pk))

    # then
    job = Job.objects.get(kind=BATCH_KIND)
    assert response["Location"] == reverse("core:job_detail", args=[job.pk])
    assert (job.status, job.done, job.total) == (JobStatus.SUCCEEDED, 2, 2)
    bundle = zip_of(job)
    names = sorted(bundle.namelist())
    assert names == sorted([certificate_filename(c) for c in valid] + [COMBINED_NAME])
    assert not any(revoked.code in name for name in names)
    for certificate in valid:
        pdf = bundle.read(certificate_filename(certificate))
        assert pdf.startswith(b"%PDF") and page_count(pdf) == 1
        assert certificate.code.encode() in pdf
    assert page_count(bundle.read(COMBINED_NAME)) == 2
    assert job.result["count"] == 2 and "已打包有效证书2张" in job.result["summary"]
    assert job.result_file.name.endswith(".zip")


def test_file_names_are_code_and_recipient(contest):
    award = awards_of(contest)[0]
    certificate = award.certificate
    assert certificate_filename(certificate) == f"{certificate.code}_{award.recipient}.pdf"


def test_file_names_are_safe_for_windows():
    award = Award(recipient='  a/b\\c:d*e?f"g<h>i|j\tk.. ')
    certificate = Certificate(award=award, code="2026ABCDEFGHJK")
    assert certificate_filename(certificate) == "2026ABCDEFGHJK_a_b_c_d_e_f_g_h_i_j_k.pdf"


def test_a_long_recipient_is_cut_in_the_file_name():
    certificate = Certificate(award=Award(recipient="长" * 300), code="2026X")
    assert len(certificate_filename(certificate)) == len("2026X_") + certificates.RECIPIENT_IN_FILENAME + 4


def test_the_qr_codes_point_where_the_single_download_points(
    client, contest, organiser, monkeypatch, django_capture_on_commit_callbacks
):
    seen: list[str] = []
    real = certificates.certificate_pdf

    def spy(certificate, url):
        seen.append(url)
        return real(certificate, url)

    monkeypatch.setattr(certificates, "certificate_pdf", spy)
    client.force_login(organiser)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(batch_url(contest.competition.pk))
    codes = [a.certificate.code for a in awards_of(contest)]
    assert sorted(seen) == sorted(
        f"http://testserver{reverse('verify:certificate', args=[code])}" for code in codes
    )


def test_the_batch_writes_the_same_audit_as_a_single_download_none(
    client, contest, organiser, django_capture_on_commit_callbacks
):
    client.force_login(organiser)
    before = AuditLog.objects.count()
    client.get(reverse("competitions:certificate_download", args=[awards_of(contest)[0].pk]))
    assert AuditLog.objects.count() == before
    with django_capture_on_commit_callbacks(execute=True):
        client.post(batch_url(contest.competition.pk))
    assert AuditLog.objects.count() == before


def test_the_job_reads_the_certificates_when_it_runs(
    client, contest, organiser, django_capture_on_commit_callbacks
):
    client.force_login(organiser)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(batch_url(contest.competition.pk))
    # revoked after the request, before the job ran
    revoked = awards_of(contest)[0].certificate
    certificate_revoke(actor=None, certificate=revoked, reason="材料失实")
    for callback in callbacks:
        callback()
    job = Job.objects.get(kind=BATCH_KIND)
    assert job.total == 2
    assert not any(revoked.code in name for name in zip_of(job).namelist())


def test_the_batch_builds_its_pdfs_in_a_fixed_number_of_queries(
    contest, organiser, django_assert_num_queries
):
    from partyedu.competitions.jobs import certificate_batch_awards

    awards = certificate_batch_awards(user=organiser, competition=contest.competition)
    with django_assert_num_queries(1):
        certificates.certificate_batch_zip([a.certificate for a in awards], lambda code: f"http://x/{code}/")


# --- nothing to download, one job at a time -----------------------------------------------------


def test_nothing_valid_gives_a_chinese_message_and_no_job(client, contest, organiser):
    for award in awards_of(contest):
        certificate_revoke(actor=None, certificate=award.certificate, reason="材料失实")
    client.force_login(organiser)
    response = client.post(batch_url(contest.competition.pk), follow=True)
    assert response.redirect_chain[-1][0] == reverse("competitions:award_list", args=[contest.competition.pk])
    assert "没有可下载的有效证书" in response.content.decode()
    assert not Job.objects.exists()


def test_a_second_request_while_unfinished_returns_the_same_job(client, contest, organiser):
    client.force_login(organiser)
    first = client.post(batch_url(contest.competition.pk))
    second = client.post(batch_url(contest.competition.pk))
    assert first["Location"] == second["Location"]
    job = Job.objects.get()
    assert job.key == f"{BATCH_KIND}:{contest.competition.pk}:{organiser.pk}"


def test_another_person_gets_their_own_job(client, contest, organiser, tree):
    client.force_login(organiser)
    client.post(batch_url(contest.competition.pk))
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    client.post(batch_url(contest.competition.pk))
    assert Job.objects.filter(kind=BATCH_KIND).count() == 2


def test_a_finished_batch_can_be_asked_for_again(
    client, contest, organiser, django_capture_on_commit_callbacks
):
    client.force_login(organiser)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(batch_url(contest.competition.pk))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(batch_url(contest.competition.pk))
    assert Job.objects.filter(kind=BATCH_KIND, status=JobStatus.SUCCEEDED).count() == 2


def test_a_batch_whose_worker_died_is_built_again_in_full(
    client, contest, organiser, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from partyedu.core.jobs import jobs_reap

    # given: a batch whose worker was killed after writing part of a file
    client.force_login(organiser)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(batch_url(contest.competition.pk))
    job = Job.objects.get(kind=BATCH_KIND)
    job.result_file.save("partial.zip", ContentFile(b"PK"), save=False)
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING,
        attempts=1,
        done=1,
        total=3,
        result_file=job.result_file.name,
        heartbeat_at=timezone.now() - timedelta(hours=1),
    )

    # when: the reaper hands it to a worker again
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs_reap() == 1

    # then: one complete ZIP
    job.refresh_from_db()
    assert (job.status, job.attempts, job.done) == (JobStatus.SUCCEEDED, 2, 3)
    assert len(zip_of(job).namelist()) == 4
