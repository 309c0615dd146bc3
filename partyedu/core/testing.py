"""Test helpers shared by every app: factories of a small named tree and the permission mixins
that every list/detail view and API endpoint runs (NetBox-style).

The tree (built by ``make_tree``)::

    市委 (root)
    ├── 甲区委 (district_a) ── 甲一支部 (branch_a) ── 甲一第一党小组 (group_a)
    └── 乙区委 (district_b) ── 乙一支部 (branch_b)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from partyedu.accounts.models import User
from partyedu.accounts.services import pii_grant_create, role_assign, user_create
from partyedu.members.idnumber import check_char
from partyedu.members.models import Member
from partyedu.members.services import member_create
from partyedu.organizations.models import Organization
from partyedu.organizations.services import organization_create

PASSWORD = "Test@2026pw"
_seq = itertools.count(1)


def valid_id_number(birth: date = date(1980, 1, 1), male: bool = True) -> str:
    """A fresh ID number that passes GB 11643, unique within the test run."""
    n = next(_seq)
    sequence = (n % 500) * 2 + (1 if male else 0)  # odd = male
    first17 = f"{370102 + n // 500:06d}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


def make_org(
    parent: Organization | None, name: str, level: str = "branch", org_type: str = "community"
) -> Organization:
    return organization_create(
        actor=None, parent=parent, name=name, code=f"T{next(_seq):05d}", level=level, org_type=org_type
    )


@dataclass
class Tree:
    root: Organization
    district_a: Organization
    district_b: Organization
    branch_a: Organization
    branch_b: Organization
    group_a: Organization


def make_tree() -> Tree:
    root = make_org(None, "市委", "committee", "organ")
    district_a = make_org(root, "甲区委", "committee", "organ")
    district_b = make_org(root, "乙区委", "committee", "organ")
    branch_a = make_org(district_a, "甲一支部")
    branch_b = make_org(district_b, "乙一支部")
    group_a = make_org(branch_a, "甲一第一党小组", "group")
    return Tree(root, district_a, district_b, branch_a, branch_b, group_a)


def make_user(
    username: str | None = None,
    *,
    role: str | None = None,
    org: Organization | None = None,
    pii: bool = False,
    **kwargs: Any,
) -> User:
    user = user_create(actor=None, username=username or f"user{next(_seq)}", password=PASSWORD, **kwargs)
    if role and org is not None:
        role_assign(actor=None, user=user, role_code=role, organization=org)
    if pii and org is not None:
        pii_grant_create(actor=None, user=user, organization=org, reason="测试授权")
    return user


def make_member(org: Organization, name: str = "张三", **data: Any) -> Member:
    data.setdefault("id_number", valid_id_number(data.pop("birth", date(1980, 1, 1)), data.pop("male", True)))
    data.setdefault("status", "full")
    return member_create(actor=None, data={"organization": org, "name": name, **data})


class ScopedEndpointTests:
    """Mixin for one page or API endpoint of organisational data. Subclasses set ``role`` and
    implement ``make_object(org)`` and ``url(obj)``; ``kind`` is "list" or "detail"; ``api``
    selects token-free API semantics (401/403 instead of a login redirect).

    The three cases every endpoint must pass:
    - no role → 403 (or the login page for anonymous web users);
    - a role at the object's organisation → 200 (and a list shows the object);
    - a role only at a sibling organisation → 404 for a detail, absent from a list.
    """

    role: ClassVar[str] = "org_admin"
    kind: ClassVar[str] = "detail"
    api: ClassVar[bool] = False
    # Text that identifies the object in a list response (defaults to str(obj)).
    marker_attr: ClassVar[str | None] = None

    def make_object(self, org: Organization) -> Any:
        raise NotImplementedError

    def url(self, obj: Any) -> str:
        raise NotImplementedError

    def marker(self, obj: Any) -> str:
        return str(getattr(obj, self.marker_attr)) if self.marker_attr else str(obj)

    def listed(self, response: Any, obj: Any) -> bool:
        """Whether a list response shows the object (override for non-HTML responses)."""
        return self.marker(obj) in response.content.decode()

    def _get(self, client: Any, url: str) -> Any:
        return client.get(url, HTTP_ACCEPT="application/json") if self.api else client.get(url)

    def test_anonymous_is_refused(self, client: Any, scope_tree: Tree) -> None:
        obj = self.make_object(scope_tree.branch_a)
        response = self._get(client, self.url(obj))
        if self.api:
            assert response.status_code in (401, 403)
        else:
            assert response.status_code == 302
            assert "/accounts/login/" in response["Location"]

    def test_user_without_role_gets_403(self, client: Any, scope_tree: Tree) -> None:
        obj = self.make_object(scope_tree.branch_a)
        client.force_login(make_user())
        assert self._get(client, self.url(obj)).status_code == 403

    def test_role_at_the_org_gets_200(self, client: Any, scope_tree: Tree) -> None:
        obj = self.make_object(scope_tree.branch_a)
        client.force_login(make_user(role=self.role, org=scope_tree.district_a))
        response = self._get(client, self.url(obj))
        assert response.status_code == 200
        if self.kind == "list":
            assert self.listed(response, obj)

    def test_role_at_a_sibling_org_gets_404_or_nothing(self, client: Any, scope_tree: Tree) -> None:
        obj = self.make_object(scope_tree.branch_a)
        client.force_login(make_user(role=self.role, org=scope_tree.district_b))
        response = self._get(client, self.url(obj))
        if self.kind == "list":
            assert response.status_code == 200
            assert not self.listed(response, obj)
        else:
            assert response.status_code == 404


def run_at_once(*calls: Any, atomic: bool = False, timeout: float | None = 30) -> list[Any]:
    """Run each call in its own thread, all released together by a barrier, each with its own
    database connection (closed afterwards); fail on any exception. With ``atomic`` each call
    runs in its own transaction. Returns the calls' results in finishing order. Used by the
    PostgreSQL concurrency tests: SQLite serialises writers, so there is no race to test there."""
    import threading

    from django.db import connections, transaction

    barrier = threading.Barrier(len(calls))
    errors: list[Exception] = []
    results: list[Any] = []

    def worker(call: Any) -> None:
        try:
            barrier.wait()
            if atomic:
                with transaction.atomic():
                    results.append(call())
            else:
                results.append(call())
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert errors == []
    return results
