"""The community area's workbench items: pledges waiting for the confirmer, bookings waiting for
the centre, a member's own overdue pledges — each only while there is something to do, in one
query."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from partyedu.core.scope import user_grants
from partyedu.service.models import Pledge
from partyedu.service.services.community import pledge_complete
from partyedu.service.todo_community import community_todos
from partyedu.testsupport.factories import make_user

from .test_community_factories import make_booking, make_centre, make_pledge, member_user

pytestmark = pytest.mark.django_db


def keys(user):
    return {item.key: item.count for item in community_todos(user=user)}


def test_nothing_to_do_is_no_item(tree):
    assert keys(make_user(role="org_admin", org=tree.district_a)) == {}


def test_the_level_above_and_the_centre_find_their_items(tree, django_assert_max_num_queries):
    pledge_complete(actor=None, pledge=make_pledge(tree.branch_a), note="已办好")
    _centre, room = make_centre(tree.district_a)
    make_booking(room, tree.branch_b)
    admin = make_user(role="org_admin", org=tree.district_a)
    user_grants(admin)  # the roles, read once per request by every app
    with django_assert_max_num_queries(1):
        found = keys(admin)
    assert found == {"service.pledges_to_confirm": 1, "service.bookings_pending": 1}
    # the pledging branch's own secretary confirms nothing of its own
    assert "service.pledges_to_confirm" not in keys(make_user(role="branch_admin", org=tree.branch_a))


def test_a_member_is_reminded_of_an_overdue_pledge(tree):
    user, member = member_user(tree.branch_a, "甲")
    pledge = make_pledge(member=member)
    assert keys(user) == {}
    Pledge.objects.filter(pk=pledge.pk).update(due=timezone.localdate() - timedelta(days=1))
    assert keys(user) == {"service.my_pledges_overdue": 1}
    pledge_complete(actor=user, pledge=pledge, note="办好了")
    assert keys(user) == {}
