"""The layers of the project's apps, lowest first: each app imports only from the apps before it in
``LAYERS`` (and from itself). ``partyedu/core/tests/test_layers.py`` enforces it on every module
under ``partyedu/``; docs/architecture.md explains the order and how a lower app gets work done in
a higher one without importing it (``partyedu.core.hooks``).

A new app is added here, at the place its imports allow, in the same change that adds it to
INSTALLED_APPS (the test fails for an installed ``partyedu`` app or a package under ``partyedu/``
that is missing from the list).
"""

from __future__ import annotations

LAYERS: tuple[str, ...] = (
    "core",  # the platform: scope, hooks, audit, jobs, import/export, API plumbing
    # organizations before accounts: role assignments and personal-data grants name an
    # organisation, and the tree knows nothing of accounts.
    "organizations",
    "accounts",
    "members",
    "study",
    "learning",
    "lectures",
    "competitions",
    "exams",  # question banks, papers, exams, attempts, grading: reads members and study
    "service",  # 服务与关怀: 双报到, pledges, volunteer service, 联户, talks, care, centre bookings
    "points",  # 积分: schemes and the points ledger derived from study, learning, lectures, exams
    "appraisal",  # 民主评议党员: annual appraisal per branch, evidence read from learning to points
    "development",  # 发展党员: the pipeline from application to full membership; reads study to appraisal
    "supervision",  # dashboards, monthly reports, dispatch, guidance, assessment: reads every app below
    "api",  # the /api/v1/ router: includes every app's routes
    "demo",  # demonstration data: seeds every app
)

# Packages under partyedu/ that are test code and import freely (like every tests/ package and
# conftest.py): the factories and API clients of the test suite.
TEST_PACKAGES: frozenset[str] = frozenset({"testsupport"})

# Upward imports allowed inside ``if TYPE_CHECKING:`` only, for annotations: they create no
# runtime dependency. Module path (under partyedu/) → the modules it may import that way. The
# test fails on one that is not listed here, and on a listed one that no longer exists.
TYPE_ONLY_IMPORTS: dict[str, frozenset[str]] = {}
