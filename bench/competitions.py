#!/usr/bin/env python
"""Competition benchmark (issue 4, ``make bench``): a city-level round with 500 entries, 60
reviewers and 5 reviews per entry — the p50 of the automatic assignment and of the results
computation, each against the same round at a fifth of the size (100 entries, 12 reviewers),
measured in the same run.

    .venv/bin/python bench/competitions.py            # 500 entries, 60 reviewers, 5 reviews each
    .venv/bin/python bench/competitions.py --reps 5

The database is ``DATABASE_URL`` or, by default, a SQLite file of its own under ``var/bench/`` that
is recreated on every run. On another database the benchmark's organisations are added beside
existing data (under a root organisation of its own) and left there.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = ROOT / "var" / "bench" / "competitions.sqlite3"
GOAL_SECONDS = 1.0


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ.setdefault("DEBUG", "0")
    if not os.environ.get("DATABASE_URL"):
        BENCH_DB.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{BENCH_DB}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{BENCH_DB}"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def build(label: str, entries: int, reviewers: int, per_entry: int) -> Any:
    """A competition over 10 districts × 5 branches, entries spread over the branches and reviewers
    spread over the districts (so every reviewer must be kept off a tenth of the entries)."""
    from partyedu.accounts.services import role_assign, user_create
    from partyedu.competitions.models import Review
    from partyedu.competitions.services import (
        competition_create,
        entry_create,
        round_create,
        round_reviewers_set,
    )
    from partyedu.testsupport.factories import make_member, make_org

    root = make_org(None, f"基准市委{label}", "committee", "organ")
    districts = [make_org(root, f"{label}区{i}", "committee", "organ") for i in range(10)]
    branches = [make_org(d, f"{d.name}支部{j}") for d in districts for j in range(5)]
    competition = competition_create(
        actor=None,
        data={
            "title": f"基准评选{label}",
            "organization": root,
            "criteria": [
                {"name": "内容", "weight": 40},
                {"name": "表达", "weight": 30},
                {"name": "效果", "weight": 30},
            ],
        },
    )
    round_ = round_create(
        actor=None,
        competition=competition,
        data={"name": "市级评审", "reviews_per_entry": per_entry, "aggregation": "zscore"},
    )
    for i in range(entries):
        branch = branches[i % len(branches)]
        member = make_member(branch, f"讲者{label}{i}")
        entry_create(
            actor=None,
            competition=competition,
            data={"title": f"党课{i}", "lecturer": member, "organization": branch},
        )
    users = []
    for i in range(reviewers):
        user = user_create(actor=None, username=f"bench{label}judge{i}", password="Bench@2026pw")
        role_assign(actor=None, user=user, role_code="reviewer", organization=districts[i % len(districts)])
        users.append(user)
    round_reviewers_set(actor=None, round_=round_, users=users)
    return round_, Review


def time_assignment(round_: Any, review_model: Any, reps: int) -> list[float]:
    from partyedu.competitions.services import round_assign

    samples = []
    for _ in range(reps):
        review_model.objects.filter(round_entry__round=round_).delete()
        start = time.perf_counter()
        round_assign(actor=None, round_=round_)
        samples.append(time.perf_counter() - start)
    return samples


def score_everything(round_: Any, review_model: Any) -> int:
    """Submit every review with deterministic, reviewer-biased scores."""
    from decimal import Decimal

    from django.utils import timezone

    rows = list(review_model.objects.filter(round_entry__round=round_).order_by("pk"))
    now = timezone.now()
    for review in rows:
        base = 60 + (review.reviewer_id % 7) * 3 + (review.round_entry_id * 13 % 17)
        review.scores = {"内容": str(base), "表达": str(base), "效果": str(base)}
        review.total = Decimal(base)
        review.submitted_at = now
    review_model.objects.bulk_update(rows, ["scores", "total", "submitted_at"], batch_size=1000)
    return len(rows)


def time_results(round_: Any, reps: int) -> list[float]:
    from partyedu.competitions.selectors import round_results

    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        rows = round_results(user=None, round_=round_)
        samples.append(time.perf_counter() - start)
        assert rows
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="PartyEdu competition benchmark")
    parser.add_argument("--entries", type=int, default=500)
    parser.add_argument("--reviewers", type=int, default=60)
    parser.add_argument("--per-entry", type=int, default=5)
    parser.add_argument("--reps", type=int, default=9, help="timed runs per measurement (median reported)")
    args = parser.parse_args(argv)
    setup_django()
    from django.db import connection

    print(f"数据库: {connection.vendor}")
    sizes = {
        "small": (args.entries // 5, max(args.per_entry + 2, args.reviewers // 5)),
        "full": (args.entries, args.reviewers),
    }
    out: dict[str, dict[str, float]] = {}
    for label, (entries, reviewers) in sizes.items():
        t0 = time.perf_counter()
        round_, review_model = build(label, entries, reviewers, args.per_entry)
        built = time.perf_counter() - t0
        assign = time_assignment(round_, review_model, args.reps)
        count = score_everything(round_, review_model)
        results = time_results(round_, args.reps)
        out[label] = {"assign": statistics.median(assign), "results": statistics.median(results)}
        print(
            f"{label:5s} {entries} 件作品 × {args.per_entry} 评 / {reviewers} 评委（{count} 份评审，构建 {built:.1f} s）: "
            f"分配 p50 {out[label]['assign'] * 1000:.1f} ms，结果计算 p50 {out[label]['results'] * 1000:.1f} ms"
        )
    ok = True
    for key, name in (("assign", "分配"), ("results", "结果计算")):
        full, small = out["full"][key], out["small"][key]
        passed = full <= GOAL_SECONDS
        ok = ok and passed
        print(
            f"{name}: p50 {full * 1000:.1f} ms（目标 ≤ {GOAL_SECONDS * 1000:.0f} ms）"
            f"{'达标' if passed else '未达标'}；与五分之一规模之比 {full / small:.2f}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
