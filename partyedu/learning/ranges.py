"""Range arithmetic of play progress: the seconds of a resource a member has played, kept as merged
half-open ranges [start, end), and the new seconds a heartbeat may add. Pure functions."""

from __future__ import annotations

from collections.abc import Iterable

Range = list[int]


def merge_ranges(ranges: Iterable[Iterable[int]]) -> list[Range]:
    merged: list[Range] = []
    for start, end in sorted((int(a), int(b)) for a, b in ranges):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def uncovered(start: int, end: int, covered: list[Range]) -> list[Range]:
    """The parts of [start, end) not in the (merged) covered ranges, in order."""
    parts = []
    cursor = start
    for a, b in covered:
        if b <= cursor:
            continue
        if a >= end:
            break
        if a > cursor:
            parts.append([cursor, min(a, end)])
        cursor = max(cursor, b)
        if cursor >= end:
            break
    if cursor < end:
        parts.append([cursor, end])
    return parts


def take_seconds(parts: list[Range], budget: int) -> list[Range]:
    """The first ``budget`` seconds of the parts."""
    taken = []
    for a, b in parts:
        if budget <= 0:
            break
        upto = min(b, a + budget)
        taken.append([a, upto])
        budget -= upto - a
    return taken
