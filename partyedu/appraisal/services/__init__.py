"""Writes of the appraisal app: the appraisal and its steps, what participants write (self
evaluation, peer comments, ballots) and the committee's decision with its follow-ups."""

from .appraisals import (
    PlannedDates,
    appraisal_create,
    appraisal_update,
    branch_members,
    excellent_limit,
    participant_add,
    step_close,
    step_open,
)
from .decisions import appraisal_decide, follow_up_close
from .participation import (
    BallotResult,
    ballot_submit,
    participant_of,
    peer_comment_save,
    self_evaluation_save,
)

__all__ = [
    "BallotResult",
    "PlannedDates",
    "appraisal_create",
    "appraisal_decide",
    "appraisal_update",
    "ballot_submit",
    "branch_members",
    "excellent_limit",
    "follow_up_close",
    "participant_add",
    "participant_of",
    "peer_comment_save",
    "self_evaluation_save",
    "step_close",
    "step_open",
]
