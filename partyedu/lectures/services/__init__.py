"""Writes to lectures: the lecturer pool, lectures given at 党课 activities with their speakers and
materials, attendees' ratings, the "大家讲" rotation of a branch, topic calls with their proposals and
assigned topics (点题), the lecture library (播党课), and the xlsx exports of the statistics pages.

Every service runs in one transaction, validates everything before it writes, checks the actor's
``lectures.<action>`` scope on the organisation it writes to (``PermissionDenied``), raises
``ValidationError({field: [中文]})`` for bad input — an id the actor may not use is answered like an
id that does not exist — and writes its audit row in the same transaction. ``actor=None`` is the
system (commands, demo seed) and passes every scope check.

Rules encoded here (see docs/lectures.md):

- A lecture belongs to an activity of type 党课; its time, place and attendees are the activity's.
- 交叉讲党课: a speaker is "cross" when they are a member categorised 基层党组织书记 or 领导干部 and the
  activity's organisation lies outside their own branch's subtree (a member registered in a party
  group counts as belonging to the group's branch). Decided when the speaker is added.
- Ratings: only an attendee (出席, 迟到, confirmed 补学) rates, 1–5 with an optional comment, once
  (rating again changes their own rating); a speaker does not rate their own lecture. Nobody is
  ever shown who gave which rating (the audit row does not carry the score or the comment).
- Rotation: members who have lectured least (rotation weeks + lectures given) go first, ties by
  name then id; nobody lectures twice before everyone has lectured once; exempt members (年老体弱)
  are left out unless asked for.
- Statistics: every service that changes what the statistics count (a lecture, its speakers, its
  ratings, a lecturer's category) ends with ``summaries.lectures_sync`` in its transaction, which
  keeps the summary rows the statistics pages read (``summaries`` says how).

One module per subsystem: ``lecturers`` (the pool), ``records`` (lectures given, speakers, materials),
``ratings``, ``rotations`` (大家讲), ``topics`` (calls and 点题), ``library`` (播党课), ``export``
(xlsx of the statistics pages); ``_common`` holds what they share. Import from the package."""

from __future__ import annotations

from ._common import APP
from .export import (
    COMPETITION_STATS_COLUMNS,
    DUTY_COLUMNS,
    STATS_COLUMNS,
    duty_state,
    lecture_duty_export,
    lecture_stats_export,
)
from .lecturers import (
    AUDITED_LECTURER_FIELDS,
    LECTURER_FIELDS,
    MAX_TAGS,
    category_of_member,
    lecturer_activate,
    lecturer_create,
    lecturer_deactivate,
    lecturer_update,
)
from .library import (
    AUDITED_ITEM_FIELDS,
    ITEM_FIELDS,
    LIBRARY_KINDS,
    SERIES_FIELDS,
    library_item_republish,
    library_item_update,
    library_item_withdraw,
    library_publish,
    library_series_create,
    library_series_delete,
    library_series_update,
)
from .ratings import (
    MAX_COMMENT,
    lecture_rate,
)
from .records import (
    AUDITED_LECTURE_FIELDS,
    FILE_RULES,
    LECTURE_FIELDS,
    MAGIC,
    MAX_FILES,
    MB,
    OLE,
    ZIP,
    UploadedMaterial,
    home_branch_path,
    is_cross_lecture,
    lecture_activity_lock,
    lecture_delete,
    lecture_record,
    lecture_update,
    validate_lecture_file,
)
from .rotations import (
    MAX_WEEKS,
    ROTATION_LEVELS,
    fair_order,
    rotation_delete,
    rotation_generate,
    rotation_regenerate,
    rotation_slot_replace,
)
from .topics import (
    call_is_open,
    topic_assign,
    topic_call_close,
    topic_call_open,
    topic_proposal_mark_key,
    topic_proposal_submit,
    topic_task_decline,
)

__all__ = [
    "APP",
    "AUDITED_ITEM_FIELDS",
    "AUDITED_LECTURER_FIELDS",
    "AUDITED_LECTURE_FIELDS",
    "COMPETITION_STATS_COLUMNS",
    "DUTY_COLUMNS",
    "FILE_RULES",
    "ITEM_FIELDS",
    "LECTURER_FIELDS",
    "LECTURE_FIELDS",
    "LIBRARY_KINDS",
    "MAGIC",
    "MAX_COMMENT",
    "MAX_FILES",
    "MAX_TAGS",
    "MAX_WEEKS",
    "MB",
    "OLE",
    "ROTATION_LEVELS",
    "SERIES_FIELDS",
    "STATS_COLUMNS",
    "ZIP",
    "UploadedMaterial",
    "call_is_open",
    "category_of_member",
    "duty_state",
    "fair_order",
    "home_branch_path",
    "is_cross_lecture",
    "lecture_activity_lock",
    "lecture_delete",
    "lecture_duty_export",
    "lecture_rate",
    "lecture_record",
    "lecture_stats_export",
    "lecture_update",
    "lecturer_activate",
    "lecturer_create",
    "lecturer_deactivate",
    "lecturer_update",
    "library_item_republish",
    "library_item_update",
    "library_item_withdraw",
    "library_publish",
    "library_series_create",
    "library_series_delete",
    "library_series_update",
    "rotation_delete",
    "rotation_generate",
    "rotation_regenerate",
    "rotation_slot_replace",
    "topic_assign",
    "topic_call_close",
    "topic_call_open",
    "topic_proposal_mark_key",
    "topic_proposal_submit",
    "topic_task_decline",
    "validate_lecture_file",
]
