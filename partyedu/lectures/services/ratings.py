"""Attendees' ratings of a lecture: 1–5 with an optional comment, never shown with who gave them."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction

from ..models import Lecture, LectureRating
from ..selectors import rating_member, rating_refusal
from ..summaries import lectures_sync

MAX_COMMENT = 500


@transaction.atomic
def lecture_rate(*, actor: Actor, lecture: Lecture, score: Any, comment: str = "") -> LectureRating:
    """The signed-in member rates a lecture they attended: ``score`` 1–5 and an optional comment.
    Rating again replaces their own rating. Ratings of one lecture are serialised by a lock on the
    lecture row. The audit row says that a rating was given, not what it said."""
    lecture = Lecture.objects.select_for_update(of=("self",)).get(pk=lecture.pk)
    refusal = rating_refusal(user=actor, lecture=lecture)
    if refusal:
        raise PermissionDenied(refusal)
    member = rating_member(actor)
    assert member is not None  # checked by rating_refusal
    errors: dict[str, list[str]] = {}
    try:
        value = int(score)
        if str(score).strip() not in (str(value), f"{value}.0"):
            raise ValueError
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 5:
        errors["score"] = ["请评1到5分"]
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        errors["comment"] = [f"评语不能超过{MAX_COMMENT}字"]
    if errors:
        raise ValidationError(errors)
    rating = LectureRating.objects.filter(lecture=lecture, member=member).first()
    created = rating is None
    if rating is None:
        rating = LectureRating(lecture=lecture, member=member)
    elif rating.score == value and rating.comment == comment:
        return rating
    old_score = None if created else rating.score
    rating.score, rating.comment = value, comment
    rating.full_clean()
    rating.save()
    if rating.score != old_score:
        lectures_sync(lecture_ids=[lecture.pk])
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        obj=lecture,
        message="评价党课" if created else "修改党课评价",
    )
    return rating
