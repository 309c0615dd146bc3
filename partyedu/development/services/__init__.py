"""Writes of the development app: cases, their steps, people and papers, the timing rules of a
subtree and the yearly plan."""

from .cases import (
    case_close,
    case_create,
    case_people_set,
    document_add,
    document_remove,
    plan_set,
    policy_reset,
    policy_set,
)
from .steps import RuleError, step_confirm

__all__ = [
    "RuleError",
    "case_close",
    "case_create",
    "case_people_set",
    "document_add",
    "document_remove",
    "plan_set",
    "policy_reset",
    "policy_set",
    "step_confirm",
]
