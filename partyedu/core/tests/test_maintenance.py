"""系统维护: the page and the start action are the 系统管理员's only, rebuilds run as jobs and
report their counts in Chinese, one rebuild of a kind runs at a time, the job keeps its
heartbeat while a long rebuild holds its transaction, and core knows no app's rebuild."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from partyedu.accounts.services import role_revoke
from partyedu.core import maintenance
from partyedu.core.choices import JobStatus
from partyedu.core.maintenance import (
    REBUILD_KIND,
    Difference,
    keep_alive,
    rebuild_get,
    rebuild_key,
    rebuild_register,
)
from partyedu.core.models import Job
from partyedu.core.testing import ScopedEndpointTests
from partyedu.testsupport.factories import Tree, make_user

pytestmark = pytest.mark.django_db

CALLS: list[bool] = []


@rebuild_register("test.fake", "测试数据", description="测试用的核对", order=999)
def fake_rebuild(*, apply: bool, step: Any) -> list[Difference]:
    CALLS.append(apply)
    step(1, 2, "核对到一半")
    return [Difference("测试项（处）", 0 if apply and CALLS.count(True) > 1 else 3), Difference("另一项", 0)]


@pytest.fixture(autouse=True)
def _reset_calls() -> None:
    CALLS.clear()


@pytest.fixture
def sysadmin(tree: Tree) -> Any:
    return make_user(role="sysadmin", org=tree.root)


def start_url(name: str = "test.fake") -> str:
    return reverse("core:maintenance_start", args=[name])


# --- who may ------------------------------------------------------------------------------------


class TestMaintenancePageScope(ScopedEndpointTests):
    url_name = "core:maintenance"
    role = "sysadmin"
    kind = "list"

    def make_object(self, org: Any) -> Any:
        return rebuild_get("organizations.paths")

    def url(self, obj: Any) -> str:
        return reverse("core:maintenance")

    def marker(self, obj: Any) -> str:
        return obj.label

    def test_role_at_a_sibling_org_gets_404_or_nothing(self, client: Any, scope_tree: Tree) -> None:
        # The rebuilds cover the whole system and belong to no organisation: where the
        # 系统管理员 role is held does not narrow them.
        client.force_login(make_user(role=self.role, org=scope_tree.district_b))
        response = client.get(self.url(None))
        assert response.status_code == 200
        assert self.marker(self.make_object(scope_tree.branch_a)) in response.content.decode()


class TestMaintenanceStartScope(TestMaintenancePageScope):
    """Starting a rebuild (POST): the starter lands on the job's page."""

    url_name = "core:maintenance_start"

    kind = "detail"

    def url(self, obj: Any) -> str:
        return start_url("organizations.paths")

    def _get(self, client: Any, url: str) -> Any:
        return client.post(url, {"mode": "check"}, follow="_auth_user_id" in client.session)

    def test_role_at_a_sibling_org_gets_404_or_nothing(self, client: Any, scope_tree: Tree) -> None:
        client.force_login(make_user(role=self.role, org=scope_tree.district_b))
        assert self._get(client, self.url(None)).status_code == 200


@pytest.mark.parametrize("role", ["org_admin", "secadmin", "auditor", "branch_admin"])
def test_other_roles_get_403(client: Any, tree: Tree, role: str) -> None:
    client.force_login(make_user(role=role, org=tree.root))
    assert client.get(reverse("core:maintenance")).status_code == 403
    assert client.post(start_url(), {"mode": "check"}).status_code == 403
    assert not Job.objects.exists()


def test_the_menu_shows_maintenance_to_the_sysadmin_only(client: Any, tree: Tree, sysadmin: Any) -> None:
    client.force_login(sysadmin)
    assert reverse("core:maintenance") in client.get(reverse("core:home")).content.decode()
    client.force_login(make_user(role="org_admin", org=tree.root))
    assert reverse("core:maintenance") not in client.get(reverse("core:home")).content.decode()


def test_the_job_fails_when_its_starter_is_no_longer_sysadmin(
    client: Any, tree: Tree, sysadmin: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(sysadmin)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(start_url(), {"mode": "apply"})
    role_revoke(actor=None, assignment=sysadmin.role_assignments.get())
    for callback in callbacks:
        callback()
    job = Job.objects.get()
    assert job.status == JobStatus.FAILED and "已不是系统管理员" in job.error
    assert CALLS == []


# --- the page -----------------------------------------------------------------------------------


def test_the_page_lists_the_registered_rebuilds_with_check_and_confirmed_apply(
    client: Any, sysadmin: Any, django_assert_max_num_queries: Any
) -> None:
    for name in ("organizations.paths", "learning.hours", "test.fake"):  # a past run of each
        Job.objects.create(kind=REBUILD_KIND, label=name, created_by=sysadmin, key=rebuild_key(name))
    client.force_login(sysadmin)
    with django_assert_max_num_queries(7):
        html = client.get(reverse("core:maintenance")).content.decode()
    for name in ("organizations.paths", "learning.hours", "test.fake"):
        rebuild = rebuild_get(name)
        assert rebuild is not None and rebuild.label in html and start_url(name) in html
    assert 'value="check"' in html
    assert 'value="apply"' in html and "data-confirm=" in html


def test_the_page_shows_the_latest_run_of_each_rebuild(
    client: Any, sysadmin: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(sysadmin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(start_url(), {"mode": "check"})
    html = client.get(reverse("core:maintenance")).content.decode()
    assert "测试数据：发现3处差异，未作修改" in html


# --- running ------------------------------------------------------------------------------------


def test_check_runs_as_a_job_and_reports_the_counts_in_chinese(
    client: Any, sysadmin: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(sysadmin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(start_url(), {"mode": "check"})
    job = Job.objects.get(kind=REBUILD_KIND)
    assert response["Location"] == reverse("core:job_detail", args=[job.pk])
    assert CALLS == [False]
    assert job.status == JobStatus.SUCCEEDED
    assert job.result["counts"] == [{"label": "测试项（处）", "count": 3}, {"label": "另一项", "count": 0}]
    assert (job.result["found"], job.result["fixed"]) == (3, 0)
    page = client.get(response["Location"]).content.decode()
    assert "测试数据：发现3处差异，未作修改" in page
    assert "测试项（处）" in page and "发现差异" in page


def test_apply_reports_what_it_fixed_and_a_second_run_finds_nothing(
    client: Any, sysadmin: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(sysadmin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(start_url(), {"mode": "apply"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(start_url(), {"mode": "apply"})
    first, second = Job.objects.order_by("created_at")
    assert CALLS == [True, True]
    assert (first.result["found"], first.result["fixed"]) == (3, 3)
    assert first.result["summary"] == "测试数据：发现并修复3处差异"
    assert second.result["summary"] == "测试数据：检查完毕，与来源数据一致（0处差异）"


def test_one_rebuild_of_a_kind_at_a_time_whatever_the_mode(client: Any, sysadmin: Any) -> None:
    client.force_login(sysadmin)
    first = client.post(start_url(), {"mode": "check"})
    second = client.post(start_url(), {"mode": "apply"})
    job = Job.objects.get()
    assert job.key == rebuild_key("test.fake") and job.params["apply"] is False
    assert first["Location"] == second["Location"] == reverse("core:job_detail", args=[job.pk])


def test_another_sysadmin_is_told_a_rebuild_is_running(client: Any, tree: Tree, sysadmin: Any) -> None:
    client.force_login(sysadmin)
    client.post(start_url(), {"mode": "check"})
    client.force_login(make_user(role="sysadmin", org=tree.root))
    response = client.post(start_url(), {"mode": "apply"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("core:maintenance")
    assert "尚未结束，请等它完成后再发起" in response.content.decode()
    assert Job.objects.count() == 1


def test_different_rebuilds_run_side_by_side(client: Any, sysadmin: Any) -> None:
    client.force_login(sysadmin)
    client.post(start_url(), {"mode": "check"})
    client.post(start_url("organizations.paths"), {"mode": "check"})
    assert Job.objects.count() == 2


def test_an_unknown_rebuild_is_404(client: Any, sysadmin: Any) -> None:
    client.force_login(sysadmin)
    assert client.post(start_url("nope.nothing"), {"mode": "check"}).status_code == 404


def test_an_unknown_mode_starts_nothing(client: Any, sysadmin: Any) -> None:
    client.force_login(sysadmin)
    response = client.post(start_url(), {"mode": "delete"}, follow=True)
    assert "请选择“检查”或“修复”" in response.content.decode()
    assert not Job.objects.exists()


def test_the_start_action_is_post_only(client: Any, sysadmin: Any) -> None:
    client.force_login(sysadmin)
    assert client.get(start_url()).status_code == 405


# --- heartbeat ----------------------------------------------------------------------------------


def test_the_keep_alive_beat_writes_the_heartbeat_and_the_reported_step(sysadmin: Any) -> None:
    old = timezone.now() - timedelta(hours=1)
    job = Job.objects.create(
        kind=REBUILD_KIND, label="x", created_by=sysadmin, status=JobStatus.RUNNING, heartbeat_at=old
    )
    with keep_alive(job, every=3600) as step:
        step(2, 4, "正在核对年度学时汇总")
        assert step.beat() == 1
    job.refresh_from_db()
    assert job.heartbeat_at > old
    assert (job.done, job.total, job.message) == (2, 4, "正在核对年度学时汇总")


def test_the_keep_alive_thread_stops_with_the_block(sysadmin: Any) -> None:
    import threading

    job = Job.objects.create(kind=REBUILD_KIND, label="x", created_by=sysadmin, status=JobStatus.RUNNING)
    with keep_alive(job, every=3600):
        assert any(t.name == f"job-{job.pk}-beat" for t in threading.enumerate())
    assert not any(t.name == f"job-{job.pk}-beat" for t in threading.enumerate())


def test_a_finished_job_is_not_revived_by_a_late_beat(sysadmin: Any) -> None:
    job = Job.objects.create(kind=REBUILD_KIND, label="x", created_by=sysadmin, status=JobStatus.SUCCEEDED)
    with keep_alive(job, every=3600) as step:
        assert step.beat() == 0


# --- layers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["maintenance.py", "maintenance_views.py", "navigation.py"])
def test_core_maintenance_imports_no_higher_domain_app(module: str) -> None:
    # The apps register their rebuilds in their own AppConfig.ready(); core is the lowest layer.
    tree = ast.parse((Path(maintenance.__file__).parent / module).read_text())
    imported = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)} | {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    higher = ("partyedu.organizations", "partyedu.members", "partyedu.learning", "partyedu.competitions")
    assert not [name for name in imported if name.startswith(higher)]


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_is_seen_by_others_while_the_rebuild_holds_its_transaction() -> None:
    import threading
    import time

    from django.db import connections, transaction

    # given: a running job whose last heartbeat is old
    old = timezone.now() - timedelta(hours=1)
    job = Job.objects.create(kind=REBUILD_KIND, label="x", status=JobStatus.RUNNING, heartbeat_at=old)
    seen: list[Job] = []

    def look() -> None:  # another request, on its own connection
        seen.append(Job.objects.get(pk=job.pk))
        connections.close_all()

    # when: the rebuild reports a step and keeps its transaction open
    with keep_alive(job, every=0.05) as step, transaction.atomic():
        step(1, 4, "正在核对网上学习的学时台账")
        time.sleep(0.5)
        reader = threading.Thread(target=look)
        reader.start()
        reader.join()

    # then: the heartbeat and the step were written outside it
    assert seen[0].heartbeat_at > old
    assert (seen[0].done, seen[0].total, seen[0].message) == (1, 4, "正在核对网上学习的学时台账")
