"""``ActivityFigures`` becomes cumulative over each organisation's subtree: every organisation's
own rows are added to its row and every ancestor's (and, going back, each organisation keeps what
its subtree holds less its children's)."""

from __future__ import annotations

from typing import Any

from django.db import migrations

SEGMENT_WIDTH = 4
COLUMNS = [f"m{n}" for n in range(1, 13)] + [f"a{n}" for n in range(1, 13)]
Key = tuple[int, int, str]


def _rows(figures: Any) -> dict[Key, list[int]]:
    return {
        (row.organization_id, row.year, row.activity_type): [getattr(row, c) for c in COLUMNS]
        for row in figures.objects.all().iterator(chunk_size=20_000)
    }


def _replace(figures: Any, rows: dict[Key, list[int]]) -> None:
    figures.objects.all().delete()
    figures.objects.bulk_create(
        [
            figures(
                organization_id=org_id,
                year=year,
                activity_type=activity_type,
                **dict(zip(COLUMNS, values, strict=True)),
            )
            for (org_id, year, activity_type), values in sorted(rows.items())
            if any(values)
        ],
        batch_size=2000,
    )


def _paths(apps: Any) -> tuple[dict[int, str], dict[str, int]]:
    paths = dict(apps.get_model("organizations", "Organization").objects.values_list("pk", "path"))
    return paths, {path: pk for pk, path in paths.items()}


def to_cumulative(apps: Any, schema_editor: Any) -> None:
    figures = apps.get_model("study", "ActivityFigures")
    paths, by_path = _paths(apps)
    out: dict[Key, list[int]] = {}
    for (org_id, year, activity_type), values in _rows(figures).items():
        path = paths.get(org_id, "")
        for end in range(SEGMENT_WIDTH, len(path) + 1, SEGMENT_WIDTH):
            into = out.setdefault((by_path[path[:end]], year, activity_type), [0] * len(COLUMNS))
            for index, value in enumerate(values):
                into[index] += value
    _replace(figures, out)


def to_own(apps: Any, schema_editor: Any) -> None:
    figures = apps.get_model("study", "ActivityFigures")
    paths, by_path = _paths(apps)
    rows = _rows(figures)
    out = {key: list(values) for key, values in rows.items()}
    for (org_id, year, activity_type), values in rows.items():
        path = paths.get(org_id, "")
        parent = by_path.get(path[:-SEGMENT_WIDTH]) if len(path) > SEGMENT_WIDTH else None
        if parent is not None and (parent, year, activity_type) in out:
            into = out[(parent, year, activity_type)]
            for index, value in enumerate(values):
                into[index] -= value
    _replace(figures, out)


class Migration(migrations.Migration):
    dependencies = [
        ("study", "0008_alter_activity_activity_type_and_more"),
        ("organizations", "0001_initial"),
    ]

    operations = [migrations.RunPython(to_cumulative, to_own)]
