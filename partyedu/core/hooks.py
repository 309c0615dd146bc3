"""The hook registry: how a lower app causes work in a higher one without importing it.

Apps form layers and import only downward (docs/architecture.md). When a lower app's write must be
followed by work that a higher app owns — an attendance change credits learning hours, a member
import updates requirement summaries, an organisation move updates every summary below it — the
lower app calls ``hooks.call(NAME, **kwargs)`` and the higher app, in its ``AppConfig.ready()``,
has registered the function that does the work. Each hook name is declared here with its contract,
so that a reader finds every cross-layer call in one file.

Hooks run synchronously, inside the caller's transaction, in registration order (app order in
INSTALLED_APPS); a hook that raises rolls the caller back. ``call`` returns each hook's result.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

# name -> what it is called with, and what the registered function must do.
HOOKS: dict[str, str] = {
    "scope.access_rows": (
        "(user) -> iterable of (role code, scope, actions, path) rows: the user's role assignments and, "
        "with an empty code, personal-data grants at active organisations (one registrant: accounts)"
    ),
    "core.home": (
        "(*, user) -> dict of context for the home page (members: own_member, the user's own member "
        "record when they hold the 党员 role; home_panels: a list of {url, title, scripts} loaded after "
        "the page — supervision: an org_admin's key figures with a chart)"
    ),
    "core.todo": (
        "(*, user) -> list of core.todo.TodoItem: what the user should do next in this app (the workbench on "
        "the home page), each linking to the page that resolves it; only within the user's scope"
    ),
    "organizations.moved": (
        "(*, organization, old_path, old_parent_id, old_parent_path, new_parent_path) inside the transaction "
        "that moved a subtree (organisation paths already rewritten): bring what is copied or summed from "
        "organisation paths (members' paths, member counts, learning, activity and lecture summaries) up to date"
    ),
    "organizations.deactivating": (
        "(*, organization) before a subtree is dissolved: raise ValidationError if something that "
        "belongs to it must leave first (active members)"
    ),
    "organizations.warnings": (
        "(*, user, organization) -> list of advice strings shown to user on the organisation's page, never "
        "errors; nothing read outside user's organisations scope (members: the branch sizing rules of 支部条例)"
    ),
    "members.changed": (
        "(*, member_ids) inside the transaction that created, imported, moved, edited or (de)activated "
        "members: bring derived summaries (hour requirement coverage, lecture duty list) up to date"
    ),
    "study.attendance_changed": (
        "(*, attendance_ids, actor, member_ids=None) inside the transaction that changed attendance rows "
        "(or deleted them): re-derive what each row credits (learning hours) through correcting entries"
    ),
    "study.credit_modes": (
        "(*, organization) -> dict of activity type -> 'full' | 'study_part' | 'none': how attending each "
        "type credits learning hours at organization (None: the defaults), for the activity form and page "
        "(learning: the table of which activities credit hours)"
    ),
    "study.attendance_hours": (
        "(*, user, attendance_ids) -> dict of attendance id → Decimal: the hours the learning ledger "
        "credits (net of corrections) for each of the user's OWN attendance rows among attendance_ids, for "
        "the member's 我的活动 page (learning); rows of other members are left out"
    ),
    "learning.hour_sources": (
        "() -> dict {source_type: (max_source_id_fn, desired_fn)}: ledger sources kept by a higher app. "
        "max_source_id_fn() -> int is the largest source id there may be; desired_fn(ids) -> dict of source "
        "id -> learning.services.ledger.Desired is what each source credits now (the ledger's sync "
        "``learning_hours_sync_source`` and the rebuild use it; exams: a passed exam set to credit hours)"
    ),
    "study.class_completion_exams": (
        "(*, class_ids, member_ids) -> (set of class ids that have an exam required for completion "
        "(结业考试), set of (class_id, member_id) pairs whose counted attempt at every such exam of the class "
        "passed), among class_ids and member_ids, in a bounded number of queries (no per-member loop); "
        "a class completes only when attendance meets its ratio and the pair is in the second set "
        "(exams)"
    ),
    "study.activities_changed": (
        "(*, activity_ids) inside the transaction that changed an activity's date or deleted it: keep "
        "summaries counted by activity date (lecture figures) in step"
    ),
    "learning.resources_completed": (
        "(*, progress_ids, member_ids, years) inside the transaction that completed online resources "
        "(ResourceProgress.completed_at set), after the write: member_ids the progress rows' members, years "
        "the years of their completion; re-derive what completing resources credits (points)"
    ),
    "lectures.lectures_changed": (
        "(*, lecture_ids, member_ids, years) inside the transaction that recorded, changed or deleted "
        "lectures, their speakers (or a speaker's member) or their date (their activity's), after the write: "
        "member_ids the members among the speakers before and after, years the lectures' years before and "
        "after; re-derive what lectures given credit (points)"
    ),
    "exams.results_changed": (
        "(*, exam_ids, member_ids, actor=None) inside the transaction where the counted result of the "
        "members at these exams (kind 'exam' only) may have changed — a submission, a grade, a regrade, a "
        "change of the grading rule — after the write; re-derive what passing an exam credits (points: the "
        "years come from the attempts' submission dates)"
    ),
    "service.hours_changed": (
        "(*, member_ids, years, actor=None) inside the transaction that confirmed, rejected (or confirmed again) "
        "or removed members' service records, after the write: years the records' years; re-derive what service "
        "hours credit (points). Volunteer activities' hours follow their attendance (study.attendance_changed)"
    ),
    "lectures.competition_figures": (
        "(*, user, organization, year, width) -> lectures.selectors.CompetitionFigures: the competition "
        "figures of organization's subtree for competitions of year (entries, submitted reviews, awards by "
        "kind) within user's lectures view scope (None: the system, every subtree), grouped by the path "
        "prefix of width characters, for the lecture statistics (competitions)"
    ),
    "members.detail_panels": (
        "(*, user, member, year) -> list of (title, html) panels of the member's record for the year shown "
        "on the member's page, within user's scope (exams: the year's exam results, evidence for the annual "
        "appraisal; hours they credit, when the exam is set to, are in the learning ledger)"
    ),
    "members.managed_fields": (
        "(*, members) -> {member pk: set of Member field names} that a higher app keeps and neither "
        "member_update nor member_import may change for a user (development: status, candidate_on, joined_on "
        "and full_member_on of a member whose development case is on record follow its confirmed steps); "
        "one query for any number of members"
    ),
    "study.activity_panels": (
        "(*, user, activity) -> list of (title, html) panels shown on the activity's page, within user's "
        "scope (appraisal: the 民主评议 held at this meeting — its steps and the grades decided, counts only)"
    ),
    "lectures.detail_panels": (
        "(*, user, lecture) -> list of (title, html) panels shown on the lecture page, within user's scope "
        "(supervision: the 党课巡听 scores, apart from the attendees' ratings)"
    ),
    "lectures.lecturer_awards": (
        "(*, member_id) -> list of lectures.selectors.LecturerAward: the awards a member won as a "
        "lecturer (not revoked), newest first, for a lecturer's record (competitions)"
    ),
    "core.search": (
        "(*, user) -> core.search.SearchSource or None: what user may find of one kind in the site search "
        "(rows through restrict(user, 'view') of the registrant's app, never ID numbers or phones), None when "
        "user sees none of that kind (organizations, members, study, learning, lectures: one kind each)"
    ),
    "core.choice_lists": (
        "() -> dict {(model label, field name): choices} of JSON fields that hold a list of choice codes, so "
        "that pages showing stored values (the audit log) read the codes as their labels (members: categories)"
    ),
}


class HookRegistry:
    """Named lists of functions, filled by the apps above and called by the apps below."""

    def __init__(self) -> None:
        self._hooks: dict[str, list[Callable[..., Any]]] = defaultdict(list)

    def register(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        if name not in HOOKS:
            raise KeyError(f"unknown hook {name!r}: declare it in partyedu.core.hooks.HOOKS")
        if function not in self._hooks[name]:
            self._hooks[name].append(function)
        return function

    def call(self, name: str, **kwargs: Any) -> list[Any]:
        if name not in HOOKS:
            raise KeyError(f"unknown hook {name!r}")
        return [function(**kwargs) for function in self._hooks[name]]

    def one(self, name: str) -> Callable[..., Any]:
        """The single function registered for a hook that must have exactly one (a loader)."""
        functions = self._hooks.get(name, [])
        if len(functions) != 1:
            raise LookupError(f"hook {name!r} needs exactly one function, has {len(functions)}")
        return functions[0]

    def registered(self, name: str) -> tuple[Callable[..., Any], ...]:
        return tuple(self._hooks.get(name, ()))


hooks = HookRegistry()
