"""Public selectors take the requesting user (issue 10, item 1).

Every ``partyedu/<app>/selectors.py`` (or ``selectors/`` package) is parsed (not imported). Each public top-level function
must have a parameter named ``user`` — so that it can start from ``restrict(user, action)`` and an
out-of-scope parent object yields nothing — or be listed in ``ALLOWED`` with the reason it may
read without one: the authentication lookup, the public certificate page, reads of policy
configuration that apply to a path rather than to people's data, pure helpers that read nothing
(Q builders, arithmetic, annotating a queryset the caller passes in), and hooks whose caller has
already decided scope. A selector only its own module uses becomes private (``_name``) instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR) / "partyedu"

ALLOWED: dict[str, str] = {
    # --- accounts ---
    "accounts.api_token_for_key": "authentication: finds who the user is from the token key",
    # --- core ---
    "core.audit_object_types": "reads model metadata, no rows",
    # --- organizations ---
    "organizations.organization_search_q": "Q builder, reads nothing",
    "organizations.member_counts": "reads the stored count off the organisations passed in, no query",
    # --- members ---
    "members.has_category_q": "Q builder, reads nothing",
    "members.search_q": "Q builder, reads nothing",
    "members.member_count_expression": "SQL expression over the paths member_count_paths(user=...) gave",
    # --- study ---
    "study.period_name": "pure arithmetic on a cadence, reads nothing",
    "study.period_label": "pure arithmetic on a cadence, reads nothing",
    # --- learning ---
    "learning.current_year": "today's year, reads nothing",
    "learning.published_for_member_q": "a Q builder: what is published for a member the caller holds",
    "learning.requirement_of": "pure helper on values the caller passes, reads nothing",
    "learning.requirement_met": "pure arithmetic, reads nothing",
    "learning.requirement_annotations": "SQL expressions from the rules passed in, reads nothing",
    "learning.rules_for_paths": "policy: the hour requirement in force at paths, no people's data",
    "learning.rule_for_path": "policy: the hour requirement in force at a path, no people's data",
    "learning.rules_in_subtree": "policy: the hour requirements in force in a subtree, no people's data",
    "learning.member_requirement": "policy: the rule at the member's path applied to the member passed in",
    # --- competitions ---
    "competitions.certificate_verify": "the public certificate verification page: no sign-in, by code",
    "competitions.with_progress": "annotates a queryset the caller passes in (already read under scope)",
    "competitions.lecturer_awards": (
        "hook lectures.lecturer_awards: lectures.lecturer_record passes the member of a lecturer it read "
        "under the user's scope; the awards are public on the verification page"
    ),
    # --- lectures ---
    "lectures.year_range": "pure arithmetic on a year, reads nothing",
    # --- exams ---
    "exams.anonymous_code": "a keyed digest of the attempt id passed in, reads nothing",
    "exams.exam_status": "pure comparison of the exam's dates with now, reads nothing",
    "exams.key_text": "formats the key of a version the caller passes in, reads nothing",
    "exams.key_options": "formats the options of a version the caller passes in, reads nothing",
    "exams.pearson": "pure arithmetic on sums, reads nothing",
    # --- points ---
    "points.year_totals": (
        "the appraisal's evidence: totals of members the appraisal read under the user's scope or membership"
    ),
    # --- appraisal --- (helpers on an appraisal or participant the caller read under scope/membership)
    "appraisal.addable_members": "members of the branch of an appraisal the caller read with change access",
    "appraisal.appraisals_reported": "the monthly report's derivation, called after the report's scope check",
    "appraisal.current_step": "pure: the state of steps the caller passes in, reads nothing",
    "appraisal.step_of": "pure: picks one of the steps the caller passes in, reads nothing",
    "appraisal.vote_closed": "pure: the state of steps the caller passes in, reads nothing",
    "appraisal.my_ballot": "the caller's own ballot, found by the key only their own request recomputes",
    "appraisal.my_comments": "the caller's own comments, found by the key only their own request recomputes",
    "appraisal.peers": "the participants of an appraisal the caller takes part in (membership checked)",
    "appraisal.tallies": "counts of an appraisal read under scope, and only once the vote closed",
    "appraisal.turnout": "a count of ballots of an appraisal read under scope or membership",
    # --- development --- (helpers on a case the caller read through case_get, under scope)
    "development.case_steps": "the confirmed steps of a case the caller read through case_get",
    "development.case_next": "pure timing rules on a case and steps the caller read through case_get",
    "development.case_policy": "policy: the timing rules in force at the branch of a case read under scope",
    "development.case_checklist": "the papers of a case the caller read through case_get",
}


def _selector_modules() -> list[Path]:
    """Every app's ``selectors.py`` (or the modules of a ``selectors/`` package)."""
    return sorted([*ROOT.glob("*/selectors.py"), *ROOT.glob("*/selectors/*.py")])


def _public_functions(path: Path) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        node
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_")
    ]


def _parameter_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    arguments = node.args
    return {arg.arg for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]}


def _public_selectors() -> dict[str, bool]:
    """``{"app.function": takes_user}`` for every public top-level selector."""
    found: dict[str, bool] = {}
    for path in _selector_modules():
        app = path.relative_to(ROOT).parts[0]
        for node in _public_functions(path):
            found[f"{app}.{node.name}"] = "user" in _parameter_names(node)
    return found


def test_selector_modules_are_found() -> None:
    apps_with_selectors = {path.relative_to(ROOT).parts[0] for path in _selector_modules()}
    assert {
        "core",
        "accounts",
        "organizations",
        "members",
        "study",
        "learning",
        "lectures",
        "competitions",
    } <= (apps_with_selectors)


def test_every_public_selector_takes_user_or_is_allowed() -> None:
    missing = sorted(
        name for name, takes_user in _public_selectors().items() if not takes_user and name not in ALLOWED
    )
    assert not missing, (
        "these public selectors read without a `user` parameter: take `user` and restrict by it, "
        f"make them private, or list them in ALLOWED with a reason: {missing}"
    )


def test_allow_list_has_no_stale_entries() -> None:
    selectors = _public_selectors()
    stale = sorted(name for name in ALLOWED if selectors.get(name, True))
    assert not stale, f"ALLOWED lists selectors that no longer exist or now take `user`: {stale}"


def test_every_allowance_states_a_reason() -> None:
    assert all(reason.strip() for reason in ALLOWED.values())
