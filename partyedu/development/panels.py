"""What the development app shows on other apps' pages (``members.detail_panels``): on the page
of a member whose development case is on record, the case's stage and a link to it — only for a
user who may view the case (``restrict(user, "view")``); nothing for anyone else. One query."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from partyedu.core.types import BaseViewer

from .models import DevelopmentCase


def member_panels(*, user: BaseViewer, member: Any, year: int) -> list[tuple[str, str]]:
    case = (
        DevelopmentCase.objects.restrict(user, "view")
        .filter(member_id=member.pk)
        .only(
            "id",
            "stage",
            "applied_on",
            "activist_on",
            "candidate_on",
            "admitted_on",
            "probation_end",
            "full_member_on",
            "next_due",
        )
        .first()
    )
    if case is None:
        return []
    return [("发展党员", render_to_string("development/_member_panel.html", {"case": case}))]
