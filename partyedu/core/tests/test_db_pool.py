"""A burst of requests on a threaded server holds at most the pool's connections (PostgreSQL)."""

import threading
import urllib.request

import pytest
from django.conf import settings
from django.db import connection

from partyedu.accounts.services import default_roles_ensure
from partyedu.testsupport.factories import make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")


def server_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


def test_postgres_uses_a_bounded_pool_not_persistent_connections():
    database = settings.DATABASES["default"]

    assert database["CONN_MAX_AGE"] == 0
    assert database["OPTIONS"]["pool"]["max_size"] >= 1


def test_a_burst_of_requests_never_holds_more_than_the_pool(live_server, client, tree):
    default_roles_ensure()  # a transactional test starts from empty tables
    client.force_login(make_user(role="org_admin", org=tree.root))
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    url = f"{live_server.url}/organizations/"
    statuses: list[int] = []
    peak = [server_connections()]
    done = threading.Event()

    def fetch(times: int) -> None:
        for _ in range(times):
            request = urllib.request.Request(url, headers={"Cookie": cookie})
            with urllib.request.urlopen(request, timeout=30) as response:
                statuses.append(response.status)

    def watch() -> None:
        try:
            while not done.is_set():
                peak[0] = max(peak[0], server_connections())
        finally:
            connection.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    workers = [threading.Thread(target=fetch, args=(10,)) for _ in range(24)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    done.set()
    watcher.join()

    assert statuses == [200] * 240
    # This test's own connection, the watcher's, and at most one pool.
    assert peak[0] <= settings.DATABASES["default"].get("OPTIONS", {}).get("pool", {}).get("max_size", 4) + 2
