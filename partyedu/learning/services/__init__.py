"""Writes of the learning app: the hour ledger (学时台账), the summaries kept with it, hour
requirements, manual records, online study resources and their server-measured progress, the
rebuild that proves every derived row equals a recomputation from the sources, and the export of
the members still short — one module per subsystem, every public name importable from here.

The ledger is append-only. A source (an attendance row, a member's progress on a resource, a
manual record) credits hours; when it changes, ``ledger._sync_sources`` compares what the source
credits now with the ledger's net for it and appends a correcting row. ``version`` numbers the rows
of one (source, member, kind, year) and is part of a unique key, so two writers can never append
the same correction twice.

Three summaries follow the ledger in the same transaction (``summaries``), each proven by
``learning_hours_rebuild``: ``MemberYearHours`` (a member's hours of a year by kind),
``MemberRequirement`` (the requirement a member is counted under) and the cumulative
per-organisation counts ``OrgRequirementCounts`` and ``OrgYearCompletion`` that serve the
completion summary of any subtree from one row — and, beside them, ``OrgCategoryCounts`` and
``OrgYearCategoryCompletion``, the same by member category.
"""

from ..ranges import Range, merge_ranges, take_seconds, uncovered
from ._common import APP, CHUNK, COMPLETION_FIELDS, COUNT_FIELDS, GROUP_FIELD, SCOPE_MESSAGE, YEAR_FIELDS
from .credit_rules import (
    CREDIT_INLINE_MAX,
    CREDIT_POLICY_MESSAGE,
    CreditRuleChange,
    ResyncTally,
    activity_credit_org_moved,
    activity_credit_resync,
    activity_credit_rule_delete,
    activity_credit_rule_set,
    credit_affected_attendance,
)
from .export import SHORT_COLUMNS, learning_short_export
from .ledger import (
    ACTIVITY_HOUR_FIELDS,
    ENTRY_COLUMNS,
    JOINED_READ_MAX,
    PLAIN_INSERT_MIN,
    Desired,
    DesiredFn,
    _ledger_nets,
    desired_for_attendance,
    desired_for_resource,
    learning_hours_sync_attendance,
    learning_hours_sync_resource,
)
from .manual import MAX_MANUAL_HOURS, learning_hours_manual_reverse, learning_hours_record_manual
from .progress import COMPLETION_SHARE, HEARTBEAT_TOLERANCE_SECONDS, HeartbeatResult, resource_heartbeat
from .rebuild import REBUILD_CHUNK, SAMPLE_LINES, RebuildReport, learning_hours_rebuild
from .requirements import (
    POLICY_MESSAGE,
    REQUIREMENT_FIELDS,
    RuleChange,
    hour_requirement_delete,
    hour_requirement_set,
)
from .resources import (
    ALLOWED_FILES,
    AUDITED_RESOURCE_FIELDS,
    FORMAT_NAMES,
    MAX_FILE_BYTES,
    MB,
    RESOURCE_FIELDS,
    column_create,
    resource_create,
    resource_delete,
    resource_publish,
    resource_unpublish,
    resource_update,
    validate_resource_file,
)
from .summaries import (
    CATEGORY_COUNT_FIELDS,
    DELTA_ROWS,
    GROUPED_UPDATES_MAX,
    MEMBER_STATE_FIELDS,
    OrgDeltas,
    learning_members_changed,
    learning_org_moved,
)

__all__ = [
    "ACTIVITY_HOUR_FIELDS",
    "ALLOWED_FILES",
    "APP",
    "AUDITED_RESOURCE_FIELDS",
    "CATEGORY_COUNT_FIELDS",
    "CHUNK",
    "COMPLETION_FIELDS",
    "COMPLETION_SHARE",
    "COUNT_FIELDS",
    "CREDIT_INLINE_MAX",
    "CREDIT_POLICY_MESSAGE",
    "DELTA_ROWS",
    "ENTRY_COLUMNS",
    "FORMAT_NAMES",
    "GROUPED_UPDATES_MAX",
    "GROUP_FIELD",
    "HEARTBEAT_TOLERANCE_SECONDS",
    "JOINED_READ_MAX",
    "MAX_FILE_BYTES",
    "MAX_MANUAL_HOURS",
    "MB",
    "MEMBER_STATE_FIELDS",
    "PLAIN_INSERT_MIN",
    "POLICY_MESSAGE",
    "REBUILD_CHUNK",
    "REQUIREMENT_FIELDS",
    "RESOURCE_FIELDS",
    "SAMPLE_LINES",
    "SCOPE_MESSAGE",
    "SHORT_COLUMNS",
    "YEAR_FIELDS",
    "CreditRuleChange",
    "Desired",
    "DesiredFn",
    "HeartbeatResult",
    "OrgDeltas",
    "Range",
    "RebuildReport",
    "ResyncTally",
    "RuleChange",
    "_ledger_nets",
    "activity_credit_org_moved",
    "activity_credit_resync",
    "activity_credit_rule_delete",
    "activity_credit_rule_set",
    "column_create",
    "credit_affected_attendance",
    "desired_for_attendance",
    "desired_for_resource",
    "hour_requirement_delete",
    "hour_requirement_set",
    "learning_hours_manual_reverse",
    "learning_hours_rebuild",
    "learning_hours_record_manual",
    "learning_hours_sync_attendance",
    "learning_hours_sync_resource",
    "learning_members_changed",
    "learning_org_moved",
    "learning_short_export",
    "merge_ranges",
    "resource_create",
    "resource_delete",
    "resource_heartbeat",
    "resource_publish",
    "resource_unpublish",
    "resource_update",
    "take_seconds",
    "uncovered",
    "validate_resource_file",
]
