"""The 党组织路径与在册党员数 rebuild on the 系统维护 page: 检查 reports broken member counts and
path copies and rolls back; 修复 repairs them; a second run finds nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from partyedu.core.choices import JobStatus
from partyedu.core.maintenance import rebuild_get
from partyedu.core.models import Job
from partyedu.members.models import Member
from partyedu.organizations.models import Organization
from partyedu.testsupport.factories import Tree, make_member, make_user

pytestmark = pytest.mark.django_db

URL = reverse("core:maintenance_start", args=["organizations.paths"])


@pytest.fixture
def sysadmin(tree: Tree) -> Any:
    return make_user(role="sysadmin", org=tree.root)


@pytest.fixture
def broken(tree: Tree) -> Member:
    """A member whose path copy is wrong, and an organisation whose member count is wrong."""
    member = make_member(tree.branch_a, "王路径")
    Member.objects.filter(pk=member.pk).update(org_path=tree.branch_b.path)
    Organization.objects.filter(pk=tree.district_a.pk).update(member_count=99)
    return member


def run(client: Any, mode: str, capture: Any) -> Job:
    with capture(execute=True):
        client.post(URL, {"mode": mode})
    job = Job.objects.order_by("-created_at").first()
    assert job is not None and job.status == JobStatus.SUCCEEDED, job and job.error
    return job


def counts(job: Job) -> dict[str, int]:
    return {row["label"]: row["count"] for row in job.result["counts"]}


def test_the_rebuild_is_registered_by_the_organizations_app() -> None:
    rebuild = rebuild_get("organizations.paths")
    assert rebuild is not None and rebuild.label == "党组织路径与在册党员数"


def test_check_reports_the_differences_and_changes_nothing(
    client: Any, tree: Tree, sysadmin: Any, broken: Member, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(sysadmin)

    job = run(client, "check", django_capture_on_commit_callbacks)

    assert counts(job) == {"党组织路径（个）": 0, "党员的组织路径副本（条）": 1, "在册党员数（个组织）": 1}
    assert job.result["fixed"] == 0
    assert Member.objects.get(pk=broken.pk).org_path == tree.branch_b.path
    assert Organization.objects.get(pk=tree.district_a.pk).member_count == 99


def test_apply_repairs_and_a_second_check_finds_nothing(
    client: Any, tree: Tree, sysadmin: Any, broken: Member, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(sysadmin)

    job = run(client, "apply", django_capture_on_commit_callbacks)
    assert (job.result["found"], job.result["fixed"]) == (2, 2)
    assert Member.objects.get(pk=broken.pk).org_path == tree.branch_a.path
    assert Organization.objects.get(pk=tree.district_a.pk).member_count == 1

    again = run(client, "check", django_capture_on_commit_callbacks)
    assert again.result["found"] == 0


def test_check_of_a_renumbered_tree_rolls_the_paths_back(
    client: Any, tree: Tree, sysadmin: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given: 甲区委 sorted after 乙区委, so a rebuild would renumber both districts' subtrees
    Organization.objects.filter(pk=tree.district_a.pk).update(sort_order=5)
    before = dict(Organization.objects.values_list("pk", "path"))
    client.force_login(sysadmin)

    job = run(client, "check", django_capture_on_commit_callbacks)

    assert counts(job)["党组织路径（个）"] == 5
    assert dict(Organization.objects.values_list("pk", "path")) == before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_organisation_created_during_a_repair_lands_under_its_parents_new_path(tree: Tree) -> None:
    from django.db import connection

    from partyedu.core.testing import run_at_once
    from partyedu.members.maintenance import organization_paths_maintenance
    from partyedu.testsupport.factories import make_org

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    # given: a tree the repair renumbers (甲区委 sorted after 乙区委)
    Organization.objects.filter(pk=tree.district_a.pk).update(sort_order=5)

    # when: the repair and a new branch under 乙一支部 at once
    run_at_once(
        lambda: organization_paths_maintenance(apply=True, step=lambda *a: None),
        lambda: make_org(Organization.objects.get(pk=tree.branch_b.pk), "乙一第一党小组", "group"),
    )

    # then: every path lies under its parent's, and a check finds nothing left to repair
    paths = dict(Organization.objects.values_list("pk", "path"))
    for org in Organization.objects.exclude(parent=None):
        assert org.path.startswith(paths[org.parent_id])
    again = organization_paths_maintenance(apply=False, step=lambda *a: None)
    assert sum(d.count for d in again) == 0
