"""Live contest: state on the server (a reload resumes), host's steps, answers and scoreboard."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from partyedu.exams.selectors.contests import live_state
from partyedu.exams.services.live import live_answer, live_create, live_next, live_reveal
from partyedu.testsupport.factories import make_user

from .test_contests import add_round, make_contest

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(tree: Any) -> Any:
    contest = make_contest(tree.district_a)
    return live_create(
        actor=None, round_=add_round(contest), team_names=["一队", "二队"], seconds_per_question=20
    )


@pytest.fixture
def organiser(tree: Any) -> Any:
    return make_user(role="org_admin", org=tree.district_a)


def test_screen_resumes_after_reload(client: Any, tree: Any, session: Any) -> None:
    live_next(actor=None, session=session)
    team = session.teams.get(name="一队")
    live_answer(actor=None, session=session, team=team.pk, correct=True)
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    page = client.get(reverse("exams:live_screen", args=[session.pk])).content.decode()
    assert "共4题" in page and "判断题" in page, page[page.find("live-state") :][:600]
    state = client.get(reverse("exams:live_state", args=[session.pk])).content.decode()
    assert 'data-current="1"' in state and "25" in state


def test_answer_given_is_marked_against_the_key(session: Any) -> None:
    live_next(actor=None, session=session)
    team = session.teams.get(name="二队")
    answer = live_answer(actor=None, session=session, team=team.pk, response="错")
    assert (answer.is_correct, answer.points) == (False, 0)


def test_scoreboard_sums_points_over_questions(session: Any, organiser: Any) -> None:
    team = session.teams.get(name="一队")
    for _ in range(2):
        live_next(actor=None, session=session)
        live_answer(actor=None, session=session, team=team.pk, correct=True)
    rows = {t.name: t.total for t in live_state(user=organiser, session=session).teams}
    assert rows == {"一队": 50, "二队": 0}


def test_key_shown_only_when_revealed(session: Any, organiser: Any) -> None:
    session = live_next(actor=None, session=session)
    assert live_state(user=organiser, session=session).question["key"] == ""
    session = live_reveal(actor=None, session=session)
    assert live_state(user=organiser, session=session).question["key"] == "正确"


def test_stale_press_does_not_skip_a_question(session: Any) -> None:
    live_next(actor=None, session=session, current=0)
    with pytest.raises(ValidationError, match="页面已过期"):
        live_next(actor=None, session=session, current=0)
    session.refresh_from_db()
    assert session.current == 1


def test_after_the_last_question_the_session_finishes(session: Any) -> None:
    for _ in range(5):
        live_next(actor=None, session=session)
    session.refresh_from_db()
    assert session.status == "finished"


def test_one_team_is_refused(tree: Any) -> None:
    contest = make_contest(tree.district_a)
    with pytest.raises(ValidationError, match="两支"):
        live_create(actor=None, round_=add_round(contest), team_names=["独队"])


def test_teams_default_to_the_units_below(tree: Any) -> None:
    contest = make_contest(tree.root)
    live = live_create(actor=None, round_=add_round(contest))
    assert [t.name for t in live.teams.order_by("position")] == ["甲区委", "乙区委"]
