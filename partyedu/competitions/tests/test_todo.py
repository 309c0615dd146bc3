"""The competitions app's workbench items (``competitions.todo``): a reviewer's open reviews."""

from __future__ import annotations

import pytest
from django.urls import reverse

from partyedu.competitions.todo import competitions_todos
from partyedu.testsupport.factories import Tree, make_user

from .pages import contest, submit

pytestmark = pytest.mark.django_db


def test_a_reviewer_sees_their_open_reviews(tree: Tree) -> None:
    c = contest(tree.branch_a, tree.district_b, entries=2, reviewers=1)
    [item] = competitions_todos(user=c.reviewers[0])
    assert item.count == 2
    assert item.url == reverse("competitions:my_reviews")


def test_submitted_reviews_are_not_asked_again(tree: Tree) -> None:
    c = contest(tree.branch_a, tree.district_b, entries=1, reviewers=1)
    submit(c.reviews[0])
    assert competitions_todos(user=c.reviewers[0]) == []


def test_an_organiser_has_no_reviews_to_do(tree: Tree) -> None:
    contest(tree.branch_a, tree.district_b, entries=1, reviewers=1)
    assert competitions_todos(user=make_user(role="org_admin", org=tree.root)) == []
