#!/usr/bin/env python
"""Points benchmark (issue 14, "Speed"): at city scale, on a database that holds the demo city
with its year of study and the city's points scheme (``seed_demo --members 100000`` derives the
year's points for every member while seeding).

    createdb -h 127.0.0.1 -U postgres pe_bench_points
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pe_bench_points .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pe_bench_points \\
        .venv/bin/python manage.py seed_demo --members 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pe_bench_points .venv/bin/python bench/points.py

Measured in one process, in this order:

- (r1) the hours rebuild, check mode (``learning_hours_rebuild(apply=False)``: every source
  recomputed and compared with the ledger) — the reference the goal names;
- (r2) the points rebuild, check mode (``points_rebuild()``: every member-year recomputed from
  the sources and compared with the points ledger);
- (r3) re-deriving the city after a scheme change: the city scheme's first item worth one point
  more, every member of the city re-derived in batches with correcting lines written, in a
  transaction rolled back afterwards (what the background job does);
- (p) ``GET /api/v1/members/{id}/points/?year=`` for branch_sec's members (token), interleaved
  with ``GET /api/v1/ping/`` (the framework floor), median of ``--reps``; the same member's HTML
  page ``/points/members/{id}/`` as branch_sec;
- (d) the root's distribution: ``/points/?organization={root}`` as city_admin (the page: the
  distribution of every district and the first 50 members by name) and the selector
  ``points_distribution`` alone.

Goals: r2 ≤ r1; p p50 ≤ 3 × the ping floor; d ≤ 200 ms. A MISS is a result: the exit status is
non-zero only when a measurement could not be made.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
YEAR = 2026
PAGE_RATIO_MAX = 3.0
DISTRIBUTION_MS_MAX = 200.0


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(HERE))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ.setdefault("DEBUG", "0")
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


def _seconds(function: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = function()
    return round(time.perf_counter() - started, 2), result


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def _pages(client: Any, urls: list[str], reps: int, floor: str = "", **extra: Any) -> dict[str, Any]:
    """Median over ``reps`` rounds of GETs of ``urls`` in turn, interleaved with the floor."""
    for url in urls:
        response = client.get(url, **extra)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: HTTP {response.status_code} {response.content[:200]!r}")
    samples: list[float] = []
    floors: list[float] = []
    for n in range(reps):
        url = urls[n % len(urls)]
        if floor:
            started = time.perf_counter()
            client.get(floor, **extra)
            floors.append(time.perf_counter() - started)
        started = time.perf_counter()
        response = client.get(url, **extra)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    out: dict[str, Any] = {"p50_ms": _median_ms(samples), "reps": reps, "urls": len(urls)}
    if floors:
        out["ping_p50_ms"] = _median_ms(floors)
        out["ratio"] = round(out["p50_ms"] / out["ping_p50_ms"], 2)
    return out


def measure(args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connection, transaction
    from run import demo_root

    from partyedu.accounts.models import RoleAssignment
    from partyedu.learning.services.rebuild import learning_hours_rebuild
    from partyedu.members.models import Member
    from partyedu.points.models import PointsEntry, PointsScheme
    from partyedu.points.services.ledger import points_sync_scheme_batches, scheme_member_ids
    from partyedu.points.services.rebuild import points_rebuild

    root = demo_root()
    branch = (
        RoleAssignment.objects.select_related("organization").get(user__username="branch_sec").organization
    )
    scheme = PointsScheme.objects.get(organization=root, year=args.year, audience="members")
    out: dict[str, Any] = {
        "database": connection.vendor,
        "members": Member.objects.filter(is_active=True, org_path__startswith=root.path).count(),
        "ledger_lines": PointsEntry.objects.filter(year=args.year).count(),
        "year": args.year,
    }
    print(f"  {out['members']} members, {out['ledger_lines']} points lines in {args.year}", flush=True)

    if args.pages_only:
        return _pages_part(args, out, root, branch)
    print("  (r1) hours rebuild, check …", flush=True)
    seconds, report = _seconds(lambda: learning_hours_rebuild(apply=False))
    out["hours_rebuild_s"] = seconds
    print(f"  (r1) {seconds} s", flush=True)
    print("  (r2) points rebuild, check …", flush=True)
    seconds, report = _seconds(points_rebuild)
    out["points_rebuild_s"] = seconds
    out["points_rebuild_differences"] = report.differences
    out["points_rebuild_ratio"] = round(out["points_rebuild_s"] / out["hours_rebuild_s"], 2)
    print(f"  (r2) {seconds} s, {report.differences} differences", flush=True)

    if args.no_resync:
        return _pages_part(args, out, root, branch)
    print("  (r3) scheme change re-derived for the city (rolled back) …", flush=True)
    with transaction.atomic():
        item = scheme.items.order_by("position", "id").first()
        assert item is not None
        item.points += 1
        item.save(update_fields=["points"])
        ids = scheme_member_ids(scheme)
        seconds, appended = _seconds(lambda: points_sync_scheme_batches(scheme=scheme, member_ids=ids))
        transaction.set_rollback(True)
    out["scheme_resync_s"] = seconds
    out["scheme_resync_members"] = len(ids)
    out["scheme_resync_lines"] = appended
    print(f"  (r3) {seconds} s for {len(ids)} members, {appended} correcting lines", flush=True)
    return _pages_part(args, out, root, branch)


def _pages_part(args: argparse.Namespace, out: dict[str, Any], root: Any, branch: Any) -> dict[str, Any]:
    from django.test import Client
    from pages import signed_in_client
    from run import api_token

    from partyedu.accounts.models import User
    from partyedu.members.models import Member
    from partyedu.points.selectors import points_distribution

    members = list(
        Member.objects.filter(organization=branch, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:20]
    )
    auth = {"HTTP_AUTHORIZATION": f"Token {api_token(Client(), 'branch_sec')}"}
    out["member_api"] = _pages(
        Client(),
        [f"/api/v1/members/{pk}/points/?year={args.year}" for pk in members],
        args.reps,
        "/api/v1/ping/",
        **auth,
    )
    print(f"  (p) member API {out['member_api']}", flush=True)
    secretary = signed_in_client(User.objects.get(username="branch_sec"))
    out["member_page"] = _pages(
        secretary, [f"/points/members/{pk}/?year={args.year}" for pk in members], args.reps
    )
    print(f"  (p) member page {out['member_page']}", flush=True)

    admin = signed_in_client(User.objects.get(username="city_admin"))
    out["root_page"] = _pages(admin, [f"/points/?organization={root.pk}&year={args.year}"], args.reps)
    print(f"  (d) root page {out['root_page']}", flush=True)
    city_admin = User.objects.get(username="city_admin")
    samples = []
    for _ in range(args.reps):
        started = time.perf_counter()
        figures = points_distribution(user=city_admin, organization=root, year=args.year)
        samples.append(time.perf_counter() - started)
    out["root_distribution"] = {"p50_ms": _median_ms(samples), "children": len(figures), "reps": args.reps}
    print(f"  (d) distribution selector {out['root_distribution']}", flush=True)
    return out


def verdicts(out: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    def ok(flag: bool) -> str:
        return "PASS" if flag else "MISS"

    rows = []
    if "points_rebuild_s" in out:
        rows += [
            (
                "(r2) points rebuild vs (r1) hours rebuild, same run",
                f"{out['points_rebuild_s']} s vs {out['hours_rebuild_s']} s (×{out['points_rebuild_ratio']})",
                "≤ hours rebuild",
                ok(out["points_rebuild_s"] <= out["hours_rebuild_s"]),
            ),
        ]
    if "scheme_resync_s" in out:
        rows += [
            (
                "(r3) re-derive the city after a scheme change",
                f"{out['scheme_resync_s']} s ({out['scheme_resync_members']} members, {out['scheme_resync_lines']} lines)",
                "—",
                "",
            ),
        ]
    return [
        *rows,
        (
            "(p) member's points, API p50 / ping p50",
            f"{out['member_api']['p50_ms']} ms / {out['member_api']['ping_p50_ms']} ms (×{out['member_api']['ratio']})",
            f"≤ {PAGE_RATIO_MAX}×",
            ok(out["member_api"]["ratio"] <= PAGE_RATIO_MAX),
        ),
        ("(p) member's points, HTML page p50", f"{out['member_page']['p50_ms']} ms", "—", ""),
        (
            "(d) root distribution page p50",
            f"{out['root_page']['p50_ms']} ms",
            f"≤ {DISTRIBUTION_MS_MAX:.0f} ms",
            ok(out["root_page"]["p50_ms"] <= DISTRIBUTION_MS_MAX),
        ),
        (
            "(d) root distribution selector p50",
            f"{out['root_distribution']['p50_ms']} ms ({out['root_distribution']['children']} districts)",
            f"≤ {DISTRIBUTION_MS_MAX:.0f} ms",
            ok(out["root_distribution"]["p50_ms"] <= DISTRIBUTION_MS_MAX),
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Points benchmark (issue 14)")
    parser.add_argument("--year", type=int, default=YEAR)
    parser.add_argument("--reps", type=int, default=40)
    parser.add_argument("--json", type=Path, default=OUT / "points.json")
    parser.add_argument("--pages-only", action="store_true", help="skip the rebuilds (r1–r3)")
    parser.add_argument("--no-resync", action="store_true", help="skip (r3), the city re-derived")
    args = parser.parse_args(argv)
    setup_django()
    try:
        out = measure(args)
    except Exception as exc:  # a measurement that could not be made
        print(f"bench/points.py: {exc}", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, ensure_ascii=False, indent=2))
    print("| measurement | result | goal | verdict |\n|---|---|---|---|")
    for row in verdicts(out):
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
