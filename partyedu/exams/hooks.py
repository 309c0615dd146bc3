"""The hooks this app registers: the per-minute submission of attempts whose time is up, the
exams panel of a member's record for a year, the workbench items (``todo``), exams as a source
of the learning ledger (``learning.hour_sources``) and required exams as a condition of
completing a training class (``study.class_completion_exams``)."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from partyedu.core.hooks import hooks
from partyedu.core.types import BaseViewer


def member_panels(*, user: BaseViewer, member: Any, year: int) -> list[tuple[str, str]]:
    """考试成绩 of the member's year, for the member themself and whoever views exams of the
    member's organisation; nothing for anyone else."""
    from .selectors.record import member_year_results, record_visible

    if not record_visible(user, member):  # type: ignore[arg-type]
        return []
    results = member_year_results(user=user, member=member, year=year)  # type: ignore[arg-type]
    html = render_to_string("exams/_member_year_panel.html", {"results": results, "year": year})
    return [("考试成绩", html)]


def close_expired_step() -> int:
    from .services import attempts_close_expired

    return attempts_close_expired()


def register() -> None:
    """Called once from ``ExamsConfig.ready``."""
    from partyedu.core.housekeeping import frequent_step

    from .credit import class_completion_exams, hour_sources
    from .todo import exams_todos

    hooks.register("members.detail_panels", member_panels)
    hooks.register("learning.hour_sources", hour_sources)
    hooks.register("study.class_completion_exams", class_completion_exams)
    hooks.register("core.todo", exams_todos)
    frequent_step("exam_attempts_close_expired")(close_expired_step)
