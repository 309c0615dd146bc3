"""What the appraisal shows on other apps' pages (``study.activity_panels``): on the page of the
meeting that held a branch's 民主评议 (the appraisal's ``meeting``, typically its 组织生活会 or
民主评议 meeting), the appraisal's steps and the grades decided — counts only, never a vote or a
comment — for whoever may view appraisals at the branch."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.template.loader import render_to_string

from partyedu.core.types import BaseViewer

from .choices import FollowUpStatus, Grade
from .models import Appraisal

APP = "appraisal"


def activity_panels(*, user: BaseViewer, activity: Any) -> list[tuple[str, str]]:
    appraisals = list(
        Appraisal.objects.restrict(user, "view")
        .filter(meeting_id=activity.pk)
        .prefetch_related("steps", "participants", "follow_ups")
        .order_by("-year", "id")
    )
    panels: list[tuple[str, str]] = []
    for appraisal in appraisals:
        grades = Counter(p.grade for p in appraisal.participants.all() if p.grade)
        labels = dict(Grade.choices)
        html = render_to_string(
            "appraisal/_activity_panel.html",
            {
                "appraisal": appraisal,
                "steps": sorted(appraisal.steps.all(), key=lambda s: s.position),
                "participants": len(appraisal.participants.all()),
                "grades": [(labels[g], grades.get(g, 0)) for g in Grade.values],
                "decided": sum(grades.values()),
                "open_follow_ups": sum(
                    1 for f in appraisal.follow_ups.all() if f.status == FollowUpStatus.OPEN
                ),
            },
        )
        panels.append((f"{appraisal.year}年度民主评议党员", html))
    return panels
