"""Writes to study: activities and their rosters, attendance and make-up study, study plans,
training classes and enrolment, teaching sites, education bases, printed study materials and
cadence rules — one module per subsystem, every public name importable from here.

Every service runs in one transaction, validates everything before it writes, checks the actor's
scope on the organisation it writes to (``partyedu.core.scope.require``: ``PermissionDenied``),
raises ``ValidationError({field: [中文]})`` for bad input and writes its audit row in the same
transaction. ``actor=None`` is the system (commands, demo seed) and passes every scope check.

Learning hours are derived from attendance by the learning app. Every service here that creates,
changes or deletes attendance — or changes what an attendance is worth (times, credited hours,
type) — ends by calling ``sync_attendance_hours`` with the ids it touched, inside its transaction,
so the ledger is corrected in the same commit as its source (through the
``study.attendance_changed`` hook: study does not import the apps above it).
"""

# The models some callers reach through this module.
from ..models import EducationBase, StudyMaterial
from ._common import APP, WRITE_BATCH, sync_attendance_hours
from .activities import (
    ACTIVITY_CREATE_FIELDS,
    ACTIVITY_FIELDS,
    AUDITED_ACTIVITY_FIELDS,
    CHECKIN_MARGIN,
    CLASS_SESSION_TYPES,
    HOUR_FIELDS,
    RosterChange,
    activity_delete,
    activity_files_update,
    activity_record,
    activity_update,
    checkin_window,
)
from .attendance import (
    MARK_FIELDS,
    MARKABLE_STATUSES,
    AttendanceMarkResult,
    attendance_makeup_confirm,
    attendance_makeup_request,
    attendance_makeup_settle,
    attendance_mark,
)
from .cadence import (
    MAX_MIN_COUNT,
    POLICY_MESSAGE,
    cadence_default_level,
    cadence_rule_delete,
    cadence_rule_set,
)
from .central_group import (
    CENTRAL_GROUP_FIELDS,
    central_group_add,
    central_group_remove,
    central_group_update,
)
from .classes import (
    CLASS_FIELDS,
    training_class_create,
    training_class_enroll,
    training_class_unenroll,
    training_class_update,
)
from .counts import (
    CountKey,
    activity_counts_add,
    activity_counts_org_moved,
    activity_counts_rebuild,
    activity_figures_org_moved,
    activity_figures_rebuild,
    activity_figures_sync,
    counted_organization_id,
)
from .materials import MATERIAL_FIELDS, material_create, material_distribute, material_update
from .places import (
    BASE_FIELDS,
    SITE_FIELDS,
    education_base_create,
    education_base_update,
    teaching_site_create,
    teaching_site_update,
)
from .plans import PLAN_AUDIT_FIELDS, PLAN_FIELDS, TOPIC_FIELDS, study_plan_issue, study_plan_update
from .roster import activity_roster_add, activity_roster_remove

__all__ = [
    "ACTIVITY_CREATE_FIELDS",
    "ACTIVITY_FIELDS",
    "APP",
    "AUDITED_ACTIVITY_FIELDS",
    "BASE_FIELDS",
    "CENTRAL_GROUP_FIELDS",
    "CHECKIN_MARGIN",
    "CLASS_FIELDS",
    "CLASS_SESSION_TYPES",
    "HOUR_FIELDS",
    "MARKABLE_STATUSES",
    "MARK_FIELDS",
    "MATERIAL_FIELDS",
    "MAX_MIN_COUNT",
    "PLAN_AUDIT_FIELDS",
    "PLAN_FIELDS",
    "POLICY_MESSAGE",
    "SITE_FIELDS",
    "TOPIC_FIELDS",
    "WRITE_BATCH",
    "AttendanceMarkResult",
    "CountKey",
    "EducationBase",
    "RosterChange",
    "StudyMaterial",
    "activity_counts_add",
    "activity_counts_org_moved",
    "activity_counts_rebuild",
    "activity_delete",
    "activity_figures_org_moved",
    "activity_figures_rebuild",
    "activity_figures_sync",
    "activity_files_update",
    "activity_record",
    "activity_roster_add",
    "activity_roster_remove",
    "activity_update",
    "attendance_makeup_confirm",
    "attendance_makeup_request",
    "attendance_makeup_settle",
    "attendance_mark",
    "cadence_default_level",
    "cadence_rule_delete",
    "cadence_rule_set",
    "central_group_add",
    "central_group_remove",
    "central_group_update",
    "checkin_window",
    "counted_organization_id",
    "education_base_create",
    "education_base_update",
    "material_create",
    "material_distribute",
    "material_update",
    "study_plan_issue",
    "study_plan_update",
    "sync_attendance_hours",
    "teaching_site_create",
    "teaching_site_update",
    "training_class_create",
    "training_class_enroll",
    "training_class_unenroll",
    "training_class_update",
]
