"""The hooks this app registers: each area registers its own in ``hooks_<area>.py``."""

from __future__ import annotations


def register_all() -> None:
    """Called once from ``SupervisionConfig.ready``."""
    from . import hooks_assessment, hooks_dashboard, hooks_dispatch, hooks_guidance, hooks_reports

    for area in (hooks_dashboard, hooks_reports, hooks_assessment, hooks_dispatch, hooks_guidance):
        area.register()
