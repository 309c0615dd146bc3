"""PostgreSQL: the audit row of an unmasked page is committed durably, outside any transaction
of the caller (so these tests are transactional)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partyedu.core.models import AuditLog
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import make_member, make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LIST_URL = "/api/v1/members/"


@pytest.fixture(autouse=True)
def _postgres_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    from partyedu.accounts.services import default_roles_ensure

    default_roles_ensure()  # a transactional test before this one emptied the tables


def test_unmasked_page_is_audited_durably(tree):
    members = [make_member(tree.branch_a, f"党员{i}", phone=f"1380000000{i}") for i in range(3)]
    holder = make_user("holder", role="org_admin", org=tree.district_a, pii=True)
    with CaptureQueriesContext(connection) as queries:
        response = api_client(holder).get(LIST_URL)
    assert response.status_code == 200
    assert sorted(row["phone"] for row in response.json()["results"]) == [f"1380000000{i}" for i in range(3)]
    assert not any("synchronous_commit" in q["sql"] for q in queries.captured_queries)
    row = AuditLog.objects.get(action="view_pii")
    assert sorted(row.changes["member_ids"]) == sorted(m.pk for m in members)


def test_the_connection_keeps_synchronous_commit(tree):
    make_member(tree.branch_a, "党员")
    holder = make_user("holder", role="org_admin", org=tree.district_a, pii=True)
    assert api_client(holder).get(LIST_URL).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
