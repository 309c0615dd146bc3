from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from partyedu.core.choices import JobStatus
from partyedu.core.housekeeping import abandoned_import_uploads
from partyedu.core.models import Job

pytestmark = pytest.mark.django_db


def test_expired_sessions_are_deleted_and_live_ones_kept():
    live = SessionStore()
    live.create()
    expired = SessionStore()
    expired.create()
    Session.objects.filter(session_key=expired.session_key).update(
        expire_date=timezone.now() - timedelta(days=1)
    )

    call_command("housekeeping", stdout=StringIO())

    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]


def test_old_finished_jobs_are_deleted_with_their_files(settings):
    old = Job.objects.create(kind="x", label="旧任务", status=JobStatus.SUCCEEDED)
    old.result_file.save("a.xlsx", ContentFile(b"x"))
    Job.objects.filter(pk=old.pk).update(
        finished_at=timezone.now() - timedelta(days=settings.JOB_KEEP_DAYS + 1)
    )
    recent = Job.objects.create(
        kind="x", label="新任务", status=JobStatus.SUCCEEDED, finished_at=timezone.now()
    )
    name = old.result_file.name

    call_command("housekeeping", stdout=StringIO())

    assert list(Job.objects.all()) == [recent]
    assert not default_storage.exists(name)


def test_unconfirmed_import_uploads_are_deleted_after_a_day(monkeypatch):
    kept = default_storage.save("imports/new.xlsx", ContentFile(b"x"))
    stale = default_storage.save("imports/old.xlsx", ContentFile(b"x"))
    real = default_storage.get_modified_time

    def modified(name):
        return real(name) - timedelta(days=2) if name == stale else real(name)

    monkeypatch.setattr(default_storage, "get_modified_time", modified)

    assert abandoned_import_uploads() == 1
    assert default_storage.exists(kept) and not default_storage.exists(stale)


def test_api_tokens_ended_a_month_ago_are_deleted_and_others_kept():
    from partyedu.accounts.models import ApiToken
    from partyedu.accounts.services import api_token_issue
    from partyedu.testsupport.factories import make_user

    user = make_user("holder")
    live, _key = api_token_issue(user=user)
    old, _key = api_token_issue(user=user)
    ApiToken.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(days=40))

    call_command("housekeeping", stdout=StringIO())

    assert list(ApiToken.objects.values_list("pk", flat=True)) == [live.pk]
