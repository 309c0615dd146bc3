"""Conflict of interest (回避): which entries a reviewer must not score.

A reviewer's own organisation subtrees are those where they hold the reviewer role and the
organisation of their own member record. Each competition chooses its rule
(``Competition.conflict_rule``):

- ``subtree`` (本人所在组织): the reviewer avoids entries whose recommending organisation, or
  whose lecturer's organisation, lies in one of their own subtrees;
- ``unit`` (本人所在单位): each own subtree inside the organiser's is widened to the unit one
  level below the organiser that holds it, so for a city review after the districts' selection a
  reviewer from 甲一支部 avoids every entry of 甲区委.

Under both, a reviewer never scores their own lecture. The services apply these where reviewers
are assigned (automatic and manual) and where scores are submitted; the round page shows each
reviewer's avoided organisations (``selectors.round_exclusions``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from partyedu.accounts.choices import RoleCode
from partyedu.accounts.models import RoleAssignment
from partyedu.members.models import Member
from partyedu.organizations.models import SEGMENT_WIDTH, Organization

from .choices import ConflictRule


def unit_of(path: str, competition_path: str, depth: int = 1) -> str:
    """The organisation ``depth`` levels below the organiser on the way to ``path`` (the path
    itself when it is shallower)."""
    return path[: len(competition_path) + depth * SEGMENT_WIDTH]


def reviewer_paths(user_ids: Iterable[int]) -> dict[int, tuple[str, ...]]:
    """Each reviewer's own organisation subtrees: where they hold the reviewer role, and their own
    member record's organisation."""
    ids = list(user_ids)
    paths: dict[int, set[str]] = {pk: set() for pk in ids}
    for user_id, path in RoleAssignment.objects.filter(
        user_id__in=ids, role__code=RoleCode.REVIEWER
    ).values_list("user_id", "organization__path"):
        paths[user_id].add(path)
    for user_id, path in Member.objects.filter(user_id__in=ids).values_list("user_id", "org_path"):
        paths[user_id].add(path)
    return {pk: tuple(sorted(p)) for pk, p in paths.items()}


def avoided_paths(own_paths: Iterable[str], organiser_path: str, rule: str) -> tuple[str, ...]:
    """The subtrees a reviewer must not score entries from, by the competition's 回避 rule:
    - ``subtree``: their own organisation subtrees as they are;
    - ``unit``: each own subtree inside the organiser's widened to the unit one level below the
      organiser that holds it (a reviewer at 甲一支部 avoids all of 甲区委). A subtree at the
      organiser itself or outside it stays as it is."""
    paths = set(own_paths)
    if rule == ConflictRule.UNIT:
        paths = {
            unit_of(p, organiser_path) if p.startswith(organiser_path) and p != organiser_path else p
            for p in paths
        }
    return tuple(sorted(paths))


def reviewer_avoided(user_ids: Iterable[int], competition: Any) -> dict[int, tuple[str, ...]]:
    """Each reviewer's avoided subtrees in this competition (``avoided_paths`` of their own)."""
    org_path = competition.organization.path
    return {
        pk: avoided_paths(paths, org_path, competition.conflict_rule)
        for pk, paths in reviewer_paths(user_ids).items()
    }


def conflicts(
    reviewer_id: int, own_paths: Sequence[str], entry_path: str, lecturer_path: str, lecturer_user: int | None
) -> bool:
    """Whether giving this entry to this reviewer is a conflict of interest (``own_paths``: the
    reviewer's avoided subtrees, ``reviewer_avoided``)."""
    return bool(conflict_cause(reviewer_id, own_paths, entry_path, lecturer_path, lecturer_user)[0])


def conflict_cause(
    reviewer_id: int, own_paths: Sequence[str], entry_path: str, lecturer_path: str, lecturer_user: int | None
) -> tuple[str, str]:
    """Why this reviewer must avoid this entry, as (what, avoided subtree): ("self", "") when the
    reviewer is the lecturer, ("organization", path) when the recommending organisation lies in an
    avoided subtree, ("lecturer", path) when the lecturer's organisation does; ("", "") when
    there is no conflict."""
    if lecturer_user is not None and lecturer_user == reviewer_id:
        return ("self", "")
    for path in own_paths:
        if entry_path.startswith(path):
            return ("organization", path)
    for path in own_paths:
        if lecturer_path.startswith(path):
            return ("lecturer", path)
    return ("", "")


def conflict_message(cause: tuple[str, str]) -> str:
    """The conflict ``conflict_cause`` found, in words (naming the avoided organisation)."""
    what, path = cause
    if what == "self":
        return "评委是这件作品的主讲人"
    name = Organization.objects.filter(path=path).values_list("name", flat=True).first() or path
    where = "报送组织" if what == "organization" else "主讲人所在组织"
    return f"作品的{where}属于评委须回避的“{name}”"
