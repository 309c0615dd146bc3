#!/usr/bin/env python
"""Supervision benchmark (issue 12, "Speed"): the root dashboard and the monthly report at city
scale, on databases that already hold the demo city with its year of study.

    # two seeded cities (``seed_demo --members 100000`` / ``--members 10000``, PostgreSQL):
    .venv/bin/python bench/supervision.py \\
        --large postgres://postgres@127.0.0.1:5432/pe_bench_sup_100k \\
        --small postgres://postgres@127.0.0.1:5432/pe_bench_sup_10k
    # one city only (no growth ratio): DATABASE_URL, or bench/run.py's own SQLite file
    DATABASE_URL=postgres://… .venv/bin/python bench/supervision.py

``make bench`` runs it from ``bench/run.py`` (benchmark key ``supervision``) on the city that run
has just seeded and the smaller city of its growth ratio (g).

Measured, each city in a fresh process, the two cities alternately (``--rounds``), as city_admin:

- the root dashboard: ``GET /api/v1/organizations/{root}/dashboard/?year=Y`` and ``&month=M``
  (token authentication, interleaved with ``GET /api/v1/ping/``, the framework floor) and the
  HTML page ``GET /supervision/dashboard/?organization={root}&year=Y[&month=M]`` (session with the
  second factor, as ``bench/pages.py`` signs in) — median of ``--reps`` after ``--warmup``; the
  queries of one further request and their SQL time;
- generating a monthly report (``POST /api/v1/reports/``) for branch_sec's branch (as branch_sec)
  and for the city root (as city_admin), each request inside a transaction that is rolled back, so
  every one generates from scratch; the root once as the database is and once with every direct
  child holding an approved report for the month (what the root's report aggregates).

Goals: dashboard p50 ≤ 200 ms and 100,000 ÷ 10,000 members ≤ 2×; report ≤ 1 s for a branch and
≤ 2 s for the city root. A MISS is a result: the exit status is non-zero only when a measurement
could not be made.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
BENCH_DB = ROOT / "var" / "bench" / "bench.sqlite3"

DASHBOARD_P50_MS_MAX = 200.0
GROWTH_RATIO_MAX = 2.0
REPORT_BRANCH_S_MAX = 1.0
REPORT_ROOT_S_MAX = 2.0
STUDY_YEAR = 2026
# The last whole month of the demo's year of study (2026-01-01 to 2026-11-15).
STUDY_MONTH = 10
ROUNDS = 3

# (key, label): the dashboard measurements, in the order they are printed.
DASHBOARDS = (
    ("api_year", "API, year"),
    ("api_month", "API, month"),
    ("page_year", "page, year"),
    ("page_month", "page, month"),
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Supervision benchmark (issue 12)")
    parser.add_argument("--large", default="", help="database URL of the large city (default DATABASE_URL)")
    parser.add_argument("--small", default="", help="database URL of the smaller city (growth ratio)")
    parser.add_argument("--year", type=int, default=STUDY_YEAR)
    parser.add_argument("--month", type=int, default=STUDY_MONTH)
    parser.add_argument("--reps", type=int, default=30, help="timed requests per dashboard")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests first")
    parser.add_argument("--report-reps", type=int, default=5, help="timed report generations")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="fresh processes per city")
    parser.add_argument("--json", type=Path, default=OUT / "supervision.json")
    # Internal: measure the database of DATABASE_URL in this process and write the JSON.
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# --- one city, in this process ------------------------------------------------------------------


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(HERE))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ.setdefault("DEBUG", "0")
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{BENCH_DB}"
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


def _queries(client: Any, url: str, **extra: Any) -> tuple[int, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url, **extra)
    sql_ms = sum(float(q.get("time") or 0) for q in captured.captured_queries) * 1000
    return len(captured.captured_queries), round(sql_ms, 1)


def _timed(client: Any, url: str, reps: int, warmup: int, floor: str = "", **extra: Any) -> dict[str, Any]:
    """Median of ``reps`` GETs of ``url`` (after ``warmup``), interleaved with the floor if given."""
    first = client.get(url, **extra)
    if first.status_code != 200:
        raise RuntimeError(f"GET {url}: HTTP {first.status_code} {first.content[:200]!r}")
    for _ in range(warmup):
        client.get(url, **extra)
        if floor:
            client.get(floor, **extra)
    samples: list[float] = []
    floors: list[float] = []
    for _ in range(reps):
        if floor:
            started = time.perf_counter()
            client.get(floor, **extra)
            floors.append(time.perf_counter() - started)
        started = time.perf_counter()
        response = client.get(url, **extra)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    queries, sql_ms = _queries(client, url, **extra)
    out: dict[str, Any] = {
        "url": url,
        "p50_ms": round(statistics.median(samples) * 1000, 2),
        "queries": queries,
        "sql_ms": sql_ms,
        "reps": reps,
    }
    if floors:
        out["ping_p50_ms"] = round(statistics.median(floors) * 1000, 2)
    if first.get("Content-Type", "").startswith("application/json"):
        body = first.json()
        out["children"] = len(body.get("children", []))
        out["indicators"] = {
            k: body["indicators"][k]
            for k in ("members", "hours_completion_rate", "activities", "attendance_person_times", "lectures")
        }
    return out


def _generate(client: Any, auth: dict[str, str], organization: int, period: str, reps: int) -> dict[str, Any]:
    """Median of ``reps`` report generations, each in a transaction rolled back afterwards."""
    from django.db import transaction

    from partyedu.supervision.models import MonthlyReport

    year, month = int(period[:4]), int(period[5:])
    exists = MonthlyReport.objects.filter(organization_id=organization, year=year, month=month).exists()
    samples: list[float] = []
    body: dict[str, Any] = {}
    for _ in range(reps + 1):  # the first is a warm-up
        with transaction.atomic():
            # An existing report would be returned as it is: generate from scratch every time.
            MonthlyReport.objects.filter(organization_id=organization, year=year, month=month).delete()
            started = time.perf_counter()
            response = client.post(
                "/api/v1/reports/",
                data=json.dumps({"organization": organization, "period": period}),
                content_type="application/json",
                **auth,
            )
            samples.append(time.perf_counter() - started)
            transaction.set_rollback(True)
        if response.status_code not in (200, 201):
            raise RuntimeError(
                f"POST /api/v1/reports/: HTTP {response.status_code} {response.content[:300]!r}"
            )
        body = response.json()
    figures = body.get("figures", {})
    return {
        "organization": organization,
        "period": period,
        "existed": exists,
        "median_s": round(statistics.median(samples[1:]), 4),
        "runs_s": [round(s, 4) for s in samples[1:]],
        "activities_total": figures.get("activities_total"),
        "attendance_person_times": figures.get("attendance_person_times"),
        "children_approved": figures.get("children_approved"),
    }


def _approve_children(root: Any, year: int, month: int) -> int:
    """Every reporting child of the root gets an approved report of the month (figures generated
    from the records, as the services would); the caller rolls the transaction back."""
    from django.utils import timezone

    from partyedu.supervision.models import MonthlyReport
    from partyedu.supervision.models.reports import ReportStatus
    from partyedu.supervision.reports_derive import report_figures, reporting_children

    n = 0
    for child in reporting_children(root):
        figures, details = report_figures(child, year, month)
        MonthlyReport.objects.update_or_create(
            organization=child,
            year=year,
            month=month,
            defaults={
                "figures": figures,
                "details": details,
                "status": ReportStatus.APPROVED,
                "generated_at": timezone.now(),
                "submitted_at": timezone.now(),
                "reviewed_at": timezone.now(),
            },
        )
        n += 1
    return n


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Every measurement on the database of ``DATABASE_URL``, in this process."""
    from django.db import connection, transaction
    from django.test import Client
    from pages import signed_in_client
    from run import api_token, demo_root

    from partyedu.accounts.models import RoleAssignment, User
    from partyedu.members.models import Member

    root = demo_root()
    branch = (
        RoleAssignment.objects.select_related("organization").get(user__username="branch_sec").organization
    )
    out: dict[str, Any] = {
        "database": connection.vendor,
        "database_name": str(connection.settings_dict["NAME"]),
        "members": Member.objects.filter(is_active=True, org_path__startswith=root.path).count(),
        "root": root.pk,
        "branch": branch.pk,
        "year": args.year,
        "month": args.month,
    }
    auth = {"HTTP_AUTHORIZATION": f"Token {api_token(Client(), 'city_admin')}"}
    api = Client()
    base = f"/api/v1/organizations/{root.pk}/dashboard/?year={args.year}"
    out["api_year"] = _timed(api, base, args.reps, args.warmup, "/api/v1/ping/", **auth)
    out["api_month"] = _timed(
        api, f"{base}&month={args.month}", args.reps, args.warmup, "/api/v1/ping/", **auth
    )
    page = signed_in_client(User.objects.get(username="city_admin"))
    base = f"/supervision/dashboard/?organization={root.pk}&year={args.year}"
    out["page_year"] = _timed(page, base, args.reps, args.warmup)
    out["page_month"] = _timed(page, f"{base}&month={args.month}", args.reps, args.warmup)

    period = f"{args.year}-{args.month:02d}"
    branch_auth = {"HTTP_AUTHORIZATION": f"Token {api_token(Client(), 'branch_sec')}"}
    out["report_branch"] = _generate(Client(), branch_auth, branch.pk, period, args.report_reps)
    out["report_root"] = _generate(Client(), auth, root.pk, period, args.report_reps)
    with transaction.atomic():
        started = time.perf_counter()
        approved = _approve_children(root, args.year, args.month)
        setup_s = time.perf_counter() - started
        out["report_root_children_approved"] = _generate(Client(), auth, root.pk, period, args.report_reps)
        out["report_root_children_approved"]["children_setup_s"] = round(setup_s, 2)
        out["report_root_children_approved"]["children"] = approved
        transaction.set_rollback(True)
    return out


# --- both cities, in child processes -------------------------------------------------------------


def _child(args: argparse.Namespace, url: str, out: Path) -> dict[str, Any]:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--measure",
        "--year",
        str(args.year),
        "--month",
        str(args.month),
        "--reps",
        str(args.reps),
        "--warmup",
        str(args.warmup),
        "--report-reps",
        str(args.report_reps),
        "--json",
        str(out),
    ]
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run(command, env=env, check=True, cwd=ROOT)
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def _median_of(runs: list[dict[str, Any]], key: str, field: str) -> float:
    return round(statistics.median(r[key][field] for r in runs), 4)


def compare(args: argparse.Namespace, large_url: str, small_url: str | None) -> dict[str, Any]:
    """``args.rounds`` fresh-process measurements of each city, alternately; medians per figure
    and the growth ratio of every dashboard measurement."""
    OUT.mkdir(parents=True, exist_ok=True)
    cities: dict[str, list[dict[str, Any]]] = {"large": [], "small": []}
    for n in range(args.rounds):
        for label, url in (("small", small_url), ("large", large_url)):
            if not url:
                continue
            print(f"  supervision: round {n + 1}/{args.rounds}, {label} city …", flush=True)
            cities[label].append(_child(args, url, OUT / f"supervision-{label}.json"))
    result: dict[str, Any] = {
        "rounds": args.rounds,
        "reps": args.reps,
        "year": args.year,
        "month": args.month,
    }
    for label, runs in cities.items():
        if not runs:
            continue
        city: dict[str, Any] = {"members": runs[0]["members"], "database": runs[0]["database_name"]}
        for key, _ in DASHBOARDS:
            city[key] = {
                "p50_ms": _median_of(runs, key, "p50_ms"),
                "rounds_ms": [r[key]["p50_ms"] for r in runs],
                "queries": runs[-1][key]["queries"],
                "sql_ms": runs[-1][key]["sql_ms"],
            }
            if "ping_p50_ms" in runs[-1][key]:
                city[key]["ping_p50_ms"] = _median_of(runs, key, "ping_p50_ms")
        for key in ("report_branch", "report_root", "report_root_children_approved"):
            city[key] = {**runs[-1][key], "median_s": _median_of(runs, key, "median_s")}
        city["indicators"] = runs[-1]["api_year"].get("indicators")
        city["children"] = runs[-1]["api_year"].get("children")
        result[label] = city
    if "small" in result:
        result["growth"] = {
            key: round(result["large"][key]["p50_ms"] / result["small"][key]["p50_ms"], 2)
            for key, _ in DASHBOARDS
        }
    return result


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def result_rows(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Rows for the benchmark table (also used by ``bench/run.py``)."""
    rows: list[tuple[str, str, str, str]] = []
    large = result["large"]
    growth = result.get("growth", {})
    small = result.get("small")
    for key, label in DASHBOARDS:
        m = large[key]
        rows.append(
            (
                f"(s) root dashboard {label}, {large['members']:,} members ({m['queries']} queries, "
                f"{m['sql_ms']:.0f} ms SQL)",
                f"{m['p50_ms']:.1f} ms",
                f"≤ {DASHBOARD_P50_MS_MAX:.0f} ms",
                _verdict(m["p50_ms"] <= DASHBOARD_P50_MS_MAX),
            )
        )
        if small:
            ratio = growth[key]
            rows.append(
                (
                    f"    ÷ {small['members']:,} members ({small[key]['p50_ms']:.1f} ms)",
                    f"{ratio:.2f}×",
                    f"≤ {GROWTH_RATIO_MAX:.0f}×",
                    _verdict(ratio <= GROWTH_RATIO_MAX),
                )
            )
    for key, label, goal in (
        ("report_branch", "branch_sec's branch", REPORT_BRANCH_S_MAX),
        ("report_root", "city root", REPORT_ROOT_S_MAX),
        ("report_root_children_approved", "city root, every child approved", REPORT_ROOT_S_MAX),
    ):
        r = large[key]
        rows.append(
            (
                f"(s) monthly report {result['year']}-{result['month']:02d} generated, {label}",
                f"{r['median_s'] * 1000:.0f} ms",
                f"≤ {goal:.0f} s",
                _verdict(r["median_s"] <= goal),
            )
        )
    return rows


def format_table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    """A Markdown table (no Django needed in the parent process)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def bench(args: argparse.Namespace, large_url: str, small_url: str | None) -> dict[str, Any]:
    """The entry point of ``bench/run.py``: its ``--reps``/``--warmup`` (capped for the pages)."""
    own = argparse.Namespace(
        year=STUDY_YEAR,
        month=STUDY_MONTH,
        # Capped: at 100,000 members a year view takes seconds today (bench/RESULTS.md).
        reps=min(args.reps, 10),
        warmup=min(args.warmup, 2),
        report_reps=5,
        rounds=2 if small_url else 1,
    )
    return compare(own, large_url, small_url)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.measure:
        setup_django()
        result = measure(args)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str) + "\n")
        return 0
    large = args.large or os.environ.get("DATABASE_URL") or f"sqlite:///{BENCH_DB}"
    result = compare(args, large, args.small or None)
    print()
    for line in format_table(("benchmark", "result", "goal", ""), result_rows(result)):
        print(line)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str) + "\n")
    print(f"\nResults written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
