"""Generic test mixins shared by every app: the permission mixins that every page and API
endpoint runs (NetBox-style), and ``run_at_once`` for concurrency tests.

Core is the bottom layer, so this module imports no app above it. The objects the mixins need come
from fixtures of the top-level ``conftest.py``: ``scope_tree`` (the named tree of
``partyedu.testsupport.factories.make_tree``) and ``user_factory`` (its ``make_user``). Factories
for tests live in ``partyedu.testsupport``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Protocol
from urllib.parse import urlsplit

import pytest
from django.urls import resolve


class ScopeTree(Protocol):
    """What the mixins use of the ``scope_tree`` fixture: a branch in one district, and both
    districts (the branch's own and its sibling)."""

    district_a: Any
    district_b: Any
    branch_a: Any


class ScopedEndpointTests:
    """Mixin for one page or API endpoint of organisational data. Subclasses set ``role`` and
    implement ``make_object(org)`` and ``url(obj)``; ``kind`` is "list", "detail" or "create"
    (a form that is tied to no object and picks an organisation: ``make_object`` returns that
    organisation); ``api`` selects token-free API semantics (401/403 instead of a login redirect).

    The three cases every endpoint must pass:
    - no role → 403 (or the login page for anonymous web users);
    - a role at the object's organisation → 200 (and a list shows the object, a create form its
      organisation picker);
    - a role only at a sibling organisation → 404 for a detail, absent from a list; a create form
      posted with the object's organisation refuses it as out of scope.

    Every concrete subclass declares the namespaced view name it covers in ``url_name`` (or
    ``url_names`` if it covers several); ``test_url_is_the_declared_view`` checks the declaration
    and ``core/tests/test_url_coverage.py`` checks that every URL of the project is declared.
    """

    role: ClassVar[str] = "org_admin"
    kind: ClassVar[str] = "detail"
    api: ClassVar[bool] = False
    # Text that identifies the object in a list response (defaults to str(obj)).
    marker_attr: ClassVar[str | None] = None
    # The organisation picker of a "create" form.
    org_field: ClassVar[str] = "organization"
    # Namespaced view name(s) the endpoint resolves to, e.g. "study:activity_detail".
    url_name: ClassVar[str] = ""
    url_names: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def declared_url_names(cls) -> tuple[str, ...]:
        return cls.url_names or ((cls.url_name,) if cls.url_name else ())

    # Set for each test from the ``user_factory`` fixture: make_user(username=None, *, role=None,
    # org=None, ...) of the test-support factories.
    make_user: Callable[..., Any]

    @pytest.fixture(autouse=True)
    def _user_factory(self, user_factory: Callable[..., Any]) -> None:
        self.make_user = user_factory

    def make_object(self, org: Any) -> Any:
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

    def test_url_is_the_declared_view(self, scope_tree: ScopeTree) -> None:
        """The declared view name is the one the tested URL really reaches, so the URL coverage
        test cannot be satisfied by a wrong declaration."""
        declared = self.declared_url_names()
        assert declared, f"{type(self).__name__} declares no url_name"
        path = urlsplit(self.url(self.make_object(scope_tree.branch_a))).path
        assert resolve(path).view_name in declared

    def test_anonymous_is_refused(self, client: Any, scope_tree: ScopeTree) -> None:
        obj = self.make_object(scope_tree.branch_a)
        response = self._get(client, self.url(obj))
        if self.api:
            assert response.status_code in (401, 403)
        else:
            assert response.status_code == 302
            assert "/accounts/login/" in response["Location"]

    def test_user_without_role_gets_403(self, client: Any, scope_tree: ScopeTree) -> None:
        obj = self.make_object(scope_tree.branch_a)
        client.force_login(self.make_user())
        assert self._get(client, self.url(obj)).status_code == 403

    def test_role_at_the_org_gets_200(self, client: Any, scope_tree: ScopeTree) -> None:
        obj = self.make_object(scope_tree.branch_a)
        client.force_login(self.make_user(role=self.role, org=scope_tree.district_a))
        response = self._get(client, self.url(obj))
        assert response.status_code == 200
        if self.kind == "list":
            assert self.listed(response, obj)
        elif self.kind == "create":
            assert f'name="{self.org_field}' in response.content.decode()

    def test_role_at_a_sibling_org_gets_404_or_nothing(self, client: Any, scope_tree: ScopeTree) -> None:
        obj = self.make_object(scope_tree.branch_a)
        client.force_login(self.make_user(role=self.role, org=scope_tree.district_b))
        if self.kind == "create":
            # The picker's message (partyedu.organizations.picker); the form is shown again.
            response = client.post(self.url(obj), {self.org_field: obj.pk})
            assert response.status_code == 200
            assert "所选组织不存在或不在您的权限范围内" in response.content.decode()
            return
        response = self._get(client, self.url(obj))
        if self.kind == "list":
            assert response.status_code == 200
            assert not self.listed(response, obj)
        else:
            assert response.status_code == 404


class PostEndpointTests(ScopedEndpointTests):
    """``ScopedEndpointTests`` for an action reached by POST (a button, or a small form): every
    case POSTs ``post_data(obj)`` to ``action_url(obj)`` instead of GETting. ``action_url`` is by
    default the ``url`` of the page mixin that follows in the bases (``class
    TestCloseScope(PostEndpointTests, ItemPage)``); a subclass may also give ``url`` itself.

    A POST that succeeds redirects to the page the user returns to, which is then fetched, so "a
    role at the organisation" is a 200 like any page, while no role is still a 403, a sibling's
    object a 404 and an anonymous user the login page."""

    def post_data(self, obj: Any) -> dict[str, Any]:
        return {}

    def action_url(self, obj: Any) -> str:
        return super().url(obj)

    def url(self, obj: Any) -> str:
        # The requests see only the URL, so the form is computed here, once the object exists.
        self._data = self.post_data(obj)
        return self.action_url(obj)

    def _post(self, client: Any, url: str) -> Any:
        return client.post(url, getattr(self, "_data", {}))

    def _get(self, client: Any, url: str) -> Any:
        response = self._post(client, url)
        if response.status_code == 302 and "/accounts/login/" not in response["Location"]:
            return client.get(response["Location"])
        return response


class PostRedirectEndpointTests(PostEndpointTests):
    """``PostEndpointTests`` for a one-button action where "a role at the organisation" is
    checked by the redirect itself (302), not by the page it leads to."""

    def _get(self, client: Any, url: str) -> Any:
        return self._post(client, url)

    def test_role_at_the_org_gets_200(self, client: Any, scope_tree: ScopeTree) -> None:
        obj = self.make_object(scope_tree.branch_a)
        client.force_login(self.make_user(role=self.role, org=scope_tree.district_a))
        assert self._get(client, self.url(obj)).status_code == 302


class OwnedEndpointTests(ScopedEndpointTests):
    """``ScopedEndpointTests`` for pages whose reach is personal rather than organisational: a
    reviewer's assigned reviews, a member's own entries. ``owner(obj)`` is the user the object
    belongs to and sees it; ``stranger(scope_tree)`` — by default a user with the same role in the
    sibling district — gets a 404 for a detail and does not find it in a list. The anonymous and
    no-role cases are those of every page."""

    def owner(self, obj: Any) -> Any:
        raise NotImplementedError

    def stranger(self, scope_tree: ScopeTree) -> Any:
        return self.make_user(role=self.role, org=scope_tree.district_b)

    def test_role_at_the_org_gets_200(self, client: Any, scope_tree: ScopeTree) -> None:
        obj = self.make_object(scope_tree.branch_a)
        client.force_login(self.owner(obj))
        response = self._get(client, self.url(obj))
        assert response.status_code == 200
        if self.kind == "list":
            assert self.listed(response, obj)

    def test_role_at_a_sibling_org_gets_404_or_nothing(self, client: Any, scope_tree: ScopeTree) -> None:
        obj = self.make_object(scope_tree.branch_a)
        client.force_login(self.stranger(scope_tree))
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
