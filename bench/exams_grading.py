#!/usr/bin/env python
"""Grading and analysis of a large exam (issue 13): an exam with 100,000 submitted attempts × 20
questions, and one with 10,000 for the growth ratio, measured in process on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pe_bench_exams_grading .venv/bin/python bench/exams_grading.py
    DATABASE_URL=… .venv/bin/python bench/exams_grading.py --sizes 10000 --members 12000   # small

Setup: migrations; a demo city of ``--members`` (120,000) without the year of study
(``seed_demo --no-study``) when the database holds no organisations; for every size a bank of 40
questions of its own at the root (single, multiple, judge, fill-in, made through the services), an
exam of the root over a fixed paper of 20 of them (5 points each, options shuffled, closed
yesterday), and that many submitted attempts of as many members (spread evenly over the city, none
exempt) written straight into the tables with COPY: attempts, attempt questions (a shuffled option
order each) and answers. The answers follow a simple ability model (an ability per member, a
difficulty per question, P(correct) a logistic of the two; 2 % left blank) and are marked with
``keys.mark``, as submission marks them; two questions have a wrong key (the better members'
answers disagree with it), so the analysis has something to flag. An exam already holding its
attempts is reused (``--fresh`` rebuilds it). The setup time is printed.

Then, per size (each median of ``--runs``, 3):

- analysis: ``selectors.exam_results`` as city_admin (what ``GET /api/v1/exams/{id}/results/``
  returns), and the organiser page's SQL version ``selectors.results.exam_results`` with its
  ``score_histogram`` and ``participation_by_child`` when that module is there;
- regrade: ``services.question_key_correct`` of one single-choice question of the paper (its key
  moved to another letter, then back on the next run, and so on): every attempt re-scored, one
  audit row — the service offers nothing else for grading a whole exam;
- grading at submission: ``services._finalize`` (what ``attempt_submit`` runs under the attempt's
  lock) of ``--submit-sample`` attempts put back in progress first (2,000; 0 = all): the time per
  attempt and the whole exam's time at that rate (marked as extrapolated when it is a sample).

When the regrade or the analysis at the largest size would be over 5 s at 100,000 (its time
scaled linearly), one more run of it is profiled: its queries (count and SQL time, from an execute
wrapper) and the functions with the most time of their own (cProfile).

A benchmark, not a test: it prints tables with the goal (≤ 5 s at 100,000, or a background job)
and writes ``bench/out/exams_grading.json``.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import importlib
import io
import json
import math
import os
import platform
import pstats
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import checkin_burst as cb
import exams_load

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "bench" / "out"
GOAL_SECONDS = 5.0
GOAL_SIZE = 100_000
PAPER_SIZE = 20
SCORE_EACH = Decimal(5)
PASS_SCORE = Decimal(60)
BLANK_SHARE = 0.02
BAD_ITEMS = 2  # questions of the paper with a wrong key
LETTERS = "ABCDEF"


def title(size: int) -> str:
    return f"成绩分析基准（{size}份答卷）"


# --- setup ------------------------------------------------------------------------------------------


@dataclass
class Item:
    question_id: int
    version_id: int
    qtype: str
    key: Any
    options: int
    difficulty: float  # of the ability model, not the question's 1–5
    bad: bool


def make_exam(root: Any, size: int) -> Any:
    from django.utils import timezone

    from partyedu.exams import services
    from partyedu.exams.models import QuestionBank

    bank_title = f"成绩分析基准题库（{size}）"
    bank = QuestionBank.objects.filter(organization=root, title=bank_title).first()
    if bank is None:
        bank = services.bank_create(actor=None, organization=root, title=bank_title)
    for number in range(bank.questions.count(), exams_load.BANK_SIZE):
        data = exams_load.bank_questions(number)
        data["stem"] = f"{data['stem']}（{size}）"
        services.question_create(actor=None, bank=bank, data=data)
    ids = list(bank.questions.order_by("pk").values_list("pk", flat=True))[::2][:PAPER_SIZE]
    now = timezone.now()
    return services.exam_create(
        actor=None,
        organization=root,
        data={
            "title": title(size),
            "opens_at": now - timedelta(days=3),
            "closes_at": now - timedelta(days=1),
            "time_limit_minutes": 60,
            "attempts_allowed": 1,
            "pass_score": PASS_SCORE,
            "show_answers": "after_close",
            "questions": [{"question": pk, "score": SCORE_EACH} for pk in ids],
            "shuffle_options": True,
        },
    )


def paper_items(exam: Any) -> list[Item]:
    from partyedu.exams.models import PaperItem

    rng = random.Random(exam.pk)
    rows = list(
        PaperItem.objects.filter(paper=exam.paper)
        .select_related("question__current_version")
        .order_by("position")
    )
    bad = set(rng.sample(range(len(rows)), BAD_ITEMS))
    items = []
    for i, row in enumerate(rows):
        version = row.question.current_version
        assert version is not None
        items.append(
            Item(
                question_id=row.question_id,
                version_id=version.pk,
                qtype=row.question.qtype,
                key=version.answer,
                options=len(version.options or []),
                difficulty=rng.gauss(-0.8, 0.9),
                bad=i in bad,
            )
        )
    return items


def a_response(item: Item, order: list[int], correct: bool, rng: random.Random) -> Any:
    """A response as shown (letters in the attempt's option order) that is right or wrong."""
    if item.qtype == "judge":
        return item.key if correct else not item.key
    if item.qtype == "fill":
        return item.key[0] if correct else "群众路线"
    shown_key = "".join(sorted(LETTERS[order.index(LETTERS.index(ch))] for ch in item.key))
    if correct:
        return shown_key
    letters = LETTERS[: item.options]
    while True:
        if item.qtype == "single":
            guess = rng.choice(letters)
        else:
            guess = "".join(sorted(rng.sample(letters, rng.randint(1, item.options))))
        if guess != shown_key:
            return guess


def next_ids(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
        return int(cursor.fetchone()[0])


def reset_sequence(table: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT MAX(id) FROM {table}))",
            [table],
        )


@contextmanager
def copy_into(table: str, columns: str) -> Iterator[Any]:
    from django.db import connection

    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        yield copy


def fill_attempts(exam: Any, size: int, seed: int) -> dict[str, float]:
    """``size`` submitted attempts of as many members, written with COPY. Returns the timings."""
    from django.db import connection, transaction
    from django.utils import timezone

    from partyedu.exams import keys
    from partyedu.exams.targets import exam_target_members

    timings: dict[str, float] = {}
    began = time.perf_counter()
    pool = list(exam_target_members(exam).order_by("pk").values_list("pk", flat=True))
    if len(pool) < size:
        sys.exit(
            f"the city has {len(pool):,} members who can take the exam, fewer than {size:,} attempts: "
            "seed a larger one (--members on an empty database)"
        )
    members = pool[:: len(pool) // size][:size]
    items = paper_items(exam)
    rng = random.Random(seed + size)
    now = timezone.now()
    opened = exam.opens_at
    attempt_id = next_ids("exams_attempt")
    item_id = next_ids("exams_attemptquestion")
    answer_id = next_ids("exams_answer")
    attempts: list[tuple[Any, ...]] = []
    questions: list[tuple[Any, ...]] = []
    answers: list[tuple[Any, ...]] = []
    max_score = SCORE_EACH * len(items)
    for member_id in members:
        ability = rng.gauss(0, 1)
        started = opened + timedelta(seconds=rng.randint(0, 36 * 3600))
        submitted = started + timedelta(seconds=rng.randint(600, 3000))
        total = Decimal(0)
        for position, item in enumerate(items, start=1):
            order = list(range(item.options))
            if item.qtype in ("single", "multiple"):
                rng.shuffle(order)
            if rng.random() < BLANK_SHARE:
                response = None
            else:
                if item.bad:  # a wrong key: the abler the member, the less they agree with it
                    p = 1 / (1 + math.exp(1.7 * (ability + 0.3)))
                else:
                    p = 1 / (1 + math.exp(-1.7 * (ability - item.difficulty)))
                response = a_response(item, order, rng.random() < p, rng)
            marked = keys.mark(item.qtype, item.key, response, order, SCORE_EACH)
            assert marked is not None
            correct, points = marked
            total += points
            questions.append((item_id, attempt_id, position, item.version_id, SCORE_EACH, json.dumps(order)))
            answers.append(
                (
                    answer_id,
                    item_id,
                    None if response is None else json.dumps(response, ensure_ascii=False),
                    submitted - timedelta(seconds=rng.randint(1, 500)),
                    correct,
                    points,
                )
            )
            item_id += 1
            answer_id += 1
        attempts.append(
            (
                attempt_id,
                now,
                now,
                1,
                rng.getrandbits(62),
                started,
                started + timedelta(minutes=60),
                submitted,
                "graded",
                max_score,
                total,
                total >= PASS_SCORE,
                member_id,
                exam.pk,
            )
        )
        attempt_id += 1
    timings["generate"] = time.perf_counter() - began
    began = time.perf_counter()
    with transaction.atomic():
        with copy_into(
            "exams_attempt",
            "id, created_at, updated_at, number, seed, started_at, deadline, submitted_at, status, "
            "max_score, score, passed, member_id, exam_id",
        ) as copy:
            for row in attempts:
                copy.write_row(row)
        with copy_into(
            "exams_attemptquestion", "id, attempt_id, position, version_id, score, option_order"
        ) as copy:
            for row in questions:
                copy.write_row(row)
        with copy_into(
            "exams_answer", "id, attempt_question_id, response, saved_at, is_correct, points"
        ) as copy:
            for row in answers:
                copy.write_row(row)
        for table in ("exams_attempt", "exams_attemptquestion", "exams_answer"):
            reset_sequence(table)
    timings["copy"] = time.perf_counter() - began
    began = time.perf_counter()
    with connection.cursor() as cursor:
        for table in ("exams_attempt", "exams_attemptquestion", "exams_answer"):
            cursor.execute(f"ANALYZE {table}")
    timings["analyze"] = time.perf_counter() - began
    return timings


def delete_attempts(exam: Any) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM exams_answer WHERE attempt_question_id IN (SELECT q.id FROM exams_attemptquestion q "
            "JOIN exams_attempt a ON a.id = q.attempt_id WHERE a.exam_id = %s)",
            [exam.pk],
        )
        cursor.execute(
            "DELETE FROM exams_attemptquestion WHERE attempt_id IN (SELECT id FROM exams_attempt WHERE exam_id = %s)",
            [exam.pk],
        )
        cursor.execute("DELETE FROM exams_attempt WHERE exam_id = %s", [exam.pk])


def prepare(root: Any, size: int, args: argparse.Namespace) -> tuple[Any, dict[str, float]]:
    from partyedu.exams.models import Exam

    exam = Exam.objects.filter(organization=root, title=title(size)).order_by("-pk").first()
    if exam is not None and not args.fresh:
        have = exam.attempts.filter(submitted_at__isnull=False).count()
        if have == size:
            print(f"{size:,}: reusing exam {exam.pk} with its {have:,} attempts", flush=True)
            return exam, {}
    began = time.perf_counter()
    if exam is None:
        exam = make_exam(root, size)
    else:
        delete_attempts(exam)
    print(f"{size:,}: writing {size:,} attempts × {PAPER_SIZE} questions …", flush=True)
    timings = fill_attempts(exam, size, args.seed)
    timings["total"] = time.perf_counter() - began
    print(
        f"{size:,}: set up in {timings['total']:.1f} s (rows generated and marked in Python "
        f"{timings['generate']:.1f} s, COPY of {size:,} attempts + {size * PAPER_SIZE:,} attempt questions + "
        f"{size * PAPER_SIZE:,} answers {timings['copy']:.1f} s, ANALYZE {timings['analyze']:.1f} s)",
        flush=True,
    )
    return exam, timings


# --- measurements -----------------------------------------------------------------------------------


@dataclass
class Measure:
    name: str
    size: int
    samples: list[float] = field(default_factory=list)
    note: str = ""
    error: str = ""

    @property
    def p50(self) -> float:
        return statistics.median(self.samples) if self.samples else float("nan")


def timed(fn: Callable[[], Any]) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def analysis_measures(exam: Any, size: int, runs: int) -> list[Measure]:
    from partyedu.accounts.models import User
    from partyedu.exams import selectors

    user = User.objects.get(username="city_admin")
    calls: list[tuple[str, Callable[[], Any]]] = [
        ("analysis: selectors.exam_results (API)", lambda: selectors.exam_results(user=user, exam=exam))
    ]
    try:
        results = importlib.import_module("partyedu.exams.selectors.results")
    except ImportError:
        results = None
    if results is not None:
        root = exam.organization
        for name, call in (
            ("exam_results", lambda: results.exam_results(user=user, exam=exam)),
            ("score_histogram", lambda: results.score_histogram(user=user, exam=exam)),
            (
                "participation_by_child",
                lambda: results.participation_by_child(user=user, exam=exam, organization=root),
            ),
        ):
            if hasattr(results, name):
                calls.append((f"analysis: selectors.results.{name} (page)", call))
    out = []
    for label, call in calls:
        measure = Measure(label, size)
        try:
            call()  # warm: imports, the scope cache
            measure.samples = [timed(call) for _ in range(runs)]
        except Exception as exc:  # another helper's module may be changing: report, go on
            measure.error = f"{type(exc).__name__}: {exc}"[:200]
        out.append(measure)
        print(f"{size:,}: {label}: {fmt(measure)}", flush=True)
    return out


def regrade_question(exam: Any) -> Any:
    from partyedu.exams.models import PaperItem

    item = (
        PaperItem.objects.filter(paper=exam.paper, question__qtype="single")
        .select_related("question__current_version")
        .order_by("position")
        .first()
    )
    assert item is not None
    return item.question


def regrade_once(exam: Any) -> tuple[float, int]:
    from partyedu.exams import services

    question = regrade_question(exam)
    key = question.current_version.answer
    other = "B" if key == "A" else "A"
    began = time.perf_counter()
    ids = services.question_key_correct(actor=None, question=question, answer=other)
    return time.perf_counter() - began, len(ids)


def regrade_measure(exam: Any, size: int, runs: int) -> Measure:
    measure = Measure("regrade: services.question_key_correct (every attempt)", size)
    for run in range(runs):
        seconds, count = regrade_once(exam)
        measure.samples.append(seconds)
        measure.note = f"{count:,} attempts re-scored per run"
        print(f"{size:,}: regrade run {run + 1}: {count:,} attempts in {seconds:.2f} s", flush=True)
    return measure


def reopen(attempt_ids: list[int]) -> None:
    """Put attempts back in progress, their marks cleared, as before a submit."""
    from partyedu.exams.models import Answer, Attempt

    Attempt.objects.filter(pk__in=attempt_ids).update(
        submitted_at=None, status="in_progress", score=None, passed=None
    )
    Answer.objects.filter(attempt_question__attempt_id__in=attempt_ids).update(is_correct=None, points=None)


def submit_measure(exam: Any, size: int, runs: int, sample: int) -> tuple[Measure, Measure]:
    """``_finalize`` of ``sample`` attempts (reopened first), each in its own transaction under
    its lock, as ``attempt_submit`` runs it: per-attempt p50 and the whole exam at that rate."""
    from django.db import transaction
    from django.utils import timezone

    from partyedu.exams import services
    from partyedu.exams.models import Attempt

    ids = list(Attempt.objects.filter(exam=exam).order_by("pk").values_list("pk", flat=True))
    if sample and sample < len(ids):
        ids = ids[:: len(ids) // sample][:sample]
    per_attempt: list[float] = []
    totals: list[float] = []
    for run in range(runs):
        reopen(ids)
        times = []
        began = time.perf_counter()
        for pk in ids:
            t = time.perf_counter()
            with transaction.atomic():
                attempt = (
                    Attempt.objects.select_for_update(of=("self",))
                    .select_related("exam", "member__user")
                    .get(pk=pk)
                )
                services._finalize(attempt, min(timezone.now(), attempt.deadline))
            times.append(time.perf_counter() - t)
        totals.append((time.perf_counter() - began) * size / len(ids))
        per_attempt.append(statistics.median(times))
        print(
            f"{size:,}: submit grading run {run + 1}: {len(ids):,} attempts, {statistics.median(times) * 1000:.1f} ms each",
            flush=True,
        )
    one = Measure("grading at submission: services._finalize, per attempt", size, per_attempt)
    whole = Measure(
        "grading at submission: the whole exam at that rate",
        size,
        totals,
        note="" if len(ids) == size else f"extrapolated from {len(ids):,} attempts",
    )
    return one, whole


# --- profile ----------------------------------------------------------------------------------------


def profile(label: str, fn: Callable[[], Any]) -> dict[str, Any]:
    """One call under cProfile with its queries counted and timed."""
    from django.db import connection

    sql = {"count": 0, "seconds": 0.0}
    kinds: dict[str, list[float]] = {}  # the query's first words → [count, seconds]

    def wrapper(execute: Any, query: str, params: Any, many: bool, context: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(query, params, many, context)
        finally:
            spent = time.perf_counter() - began
            sql["count"] += 1
            sql["seconds"] += spent
            head = " ".join(query.split()[:4])[:60]
            entry = kinds.setdefault(head, [0, 0.0])
            entry[0] += 1
            entry[1] += spent

    profiler = cProfile.Profile()
    began = time.perf_counter()
    with connection.execute_wrapper(wrapper):
        profiler.enable()
        fn()
        profiler.disable()
    wall = time.perf_counter() - began
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("tottime").print_stats(12)
    print(
        f"\nprofile of {label}: {wall:.2f} s (under the profiler), {sql['count']:,} queries, SQL {sql['seconds']:.2f} s"
    )
    for head, (n, spent) in sorted(kinds.items(), key=lambda kv: -kv[1][1])[:8]:
        print(f"  {int(n):>9,} × {spent:7.2f} s  {head}")
    lines = [line for line in stream.getvalue().splitlines() if line.strip()][3:20]
    print("\n".join("  " + line for line in lines))
    return {
        "label": label,
        "wall": wall,
        "queries": sql["count"],
        "sql_seconds": sql["seconds"],
        "kinds": kinds,
    }


def profiled_call(name: str, exam: Any) -> Callable[[], Any] | None:
    """The call behind a measurement, for its profile."""
    from partyedu.accounts.models import User
    from partyedu.exams import selectors

    if name.startswith("regrade"):
        return functools.partial(regrade_once, exam)
    user = User.objects.get(username="city_admin")
    if name.startswith("analysis: selectors.exam_results"):
        return functools.partial(selectors.exam_results, user=user, exam=exam)
    if name.startswith("analysis: selectors.results.exam_results"):
        results = importlib.import_module("partyedu.exams.selectors.results")
        return functools.partial(results.exam_results, user=user, exam=exam)
    return None


# --- main -------------------------------------------------------------------------------------------


def fmt(measure: Measure) -> str:
    if measure.error:
        return f"not measured ({measure.error})"
    return f"p50 {cb.ms(measure.p50)} of {len(measure.samples)}" + (
        f" ({measure.note})" if measure.note else ""
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="attempts per exam (comma-separated)")
    parser.add_argument("--members", type=int, default=120_000, help="members to seed into an empty database")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the city and the answers")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each measurement (median)")
    parser.add_argument(
        "--regrade-runs",
        type=int,
        default=0,
        help="timed regrades (default: --runs); each re-scores every attempt",
    )
    parser.add_argument(
        "--submit-sample", type=int, default=2000, help="attempts graded at submission (0: all)"
    )
    parser.add_argument("--only", default="", help="analysis,regrade,submit (comma-separated; default all)")
    parser.add_argument("--fresh", action="store_true", help="rewrite the attempts even when present")
    parser.add_argument("--profile", choices=("auto", "always", "never"), default="auto")
    parser.add_argument(
        "--json", type=Path, default=OUT_DIR / "exams_grading.json", help="where to write the results"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = sorted(int(x) for x in args.sizes.split(",") if x.strip())
    only = set(args.only.split(",")) if args.only else {"analysis", "regrade", "submit"}
    cb.setup_django()  # refuses anything but PostgreSQL

    from run import demo_root

    exams_load.seed_if_empty(args.members, args.seed)
    root = demo_root()
    load_start = os.getloadavg()[0]
    measures: list[Measure] = []
    setups: dict[int, dict[str, float]] = {}
    profiles: list[dict[str, Any]] = []
    for size in sizes:
        exam, setups[size] = prepare(root, size, args)
        found: list[Measure] = []
        if "analysis" in only:
            found += analysis_measures(exam, size, args.runs)
        if "regrade" in only:
            found.append(regrade_measure(exam, size, args.regrade_runs or args.runs))
        if "submit" in only:
            found += submit_measure(exam, size, args.runs, args.submit_sample)
        measures += found
        scale = GOAL_SIZE / size
        for m in found:
            slow = not m.error and m.p50 * scale > GOAL_SECONDS
            if m.error or m.name.startswith("grading at submission"):
                continue
            if args.profile == "always" or (args.profile == "auto" and slow and size == sizes[-1]):
                call = profiled_call(m.name, exam)
                if call is not None:
                    profiles.append(profile(f"{m.name} at {size:,}", call))
    print()
    print(f"load average {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    print()
    header = " | ".join(f"{s:,} attempts" for s in sizes)
    ratio = len(sizes) > 1
    print(f"| measurement | {header} |{' ratio |' if ratio else ''} goal at 100,000 | |")
    print(f"|---|{'---|' * len(sizes)}{'---|' if ratio else ''}---|---|")
    summary: list[dict[str, Any]] = []
    for name in dict.fromkeys(m.name for m in measures):
        row = {m.size: m for m in measures if m.name == name}
        cells = [fmt_cell(row.get(s)) for s in sizes]
        largest = row.get(sizes[-1])
        ratio_cell = ""
        if ratio and row.get(sizes[0]) and largest and not largest.error and not row[sizes[0]].error:
            ratio_cell = f" {largest.p50 / row[sizes[0]].p50:.1f}× |"
        elif ratio:
            ratio_cell = " |"
        per_attempt = name.startswith("grading at submission")  # spread over the exam, not one job
        verdict = ""
        if largest and not largest.error and not per_attempt and sizes[-1] == GOAL_SIZE:
            verdict = "PASS" if largest.p50 <= GOAL_SECONDS else "MISS"
        elif largest and not largest.error and not per_attempt:
            verdict = (
                f"(×{GOAL_SIZE / sizes[-1]:g} linearly ≈ {seconds(largest.p50 * GOAL_SIZE / sizes[-1])})"
            )
        goal_cell = "reported" if per_attempt else "≤ 5 s or a job"
        print(f"| {name} | {' | '.join(cells)} |{ratio_cell} {goal_cell} | {verdict} |")
        summary.append(
            {
                "name": name,
                **{
                    str(s): {"p50": m.p50, "samples": m.samples, "note": m.note, "error": m.error}
                    for s, m in row.items()
                },
            }
        )
    for size, timing in setups.items():
        if timing:
            print(
                f"\nsetup of {size:,}: {timing['total']:.1f} s (generate {timing['generate']:.1f}, COPY {timing['copy']:.1f}, ANALYZE {timing['analyze']:.1f})"
            )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "args": {k: str(v) for k, v in vars(args).items()},
                "environment": {
                    "load_average": [load_start, os.getloadavg()[0]],
                    "python": platform.python_version(),
                    "commit": subprocess.run(
                        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
                    ).stdout.strip(),
                },
                "setup": setups,
                "measures": summary,
                "profiles": profiles,
            },
            indent=2,
            ensure_ascii=False,
            default=str,
        )
    )
    print(f"\nwritten to {args.json}")
    return 0


def seconds(value: float) -> str:
    return f"{value:,.0f} s" if value >= 10 else cb.ms(value)


def fmt_cell(measure: Measure | None) -> str:
    if measure is None:
        return ""
    if measure.error:
        return "error"
    return seconds(measure.p50) + (f" ({measure.note})" if measure.note else "")


if __name__ == "__main__":
    sys.exit(main())
