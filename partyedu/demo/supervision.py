"""The supervision part of the demo, written after the city, its year of study and its lectures:
monthly reports, dispatches and a quarterly note, guidance teams with inspections and 党课巡听,
a draft annual assessment, and last the notifications of the demo accounts (which point at what
the others wrote). Each area's seed is in its own module; this runs them in that order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from .supervision_assessment import seed_assessment
from .supervision_dispatch import seed_dispatch
from .supervision_guidance import seed_guidance
from .supervision_reports import seed_reports
from .supervision_workbench import seed_workbench

SEEDS = (seed_reports, seed_dispatch, seed_guidance, seed_assessment, seed_workbench)


def build_supervision(*, seed: int, today: date, say: Callable[[str], None]) -> list[str]:
    """Run every area's seed; returns their summary lines."""
    lines: list[str] = []
    for run in SEEDS:
        lines += run(seed=seed, today=today, say=say)
    return lines
