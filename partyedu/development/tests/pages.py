"""Helpers of the page tests: cases in any organisation of the test tree, taken through their first
steps by the system (dates in the past), without the ``setup`` fixture's branch."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import count
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from partyedu.development.models import CaseDocument, DevelopmentCase
from partyedu.development.services import case_create, document_add, step_confirm
from partyedu.testsupport.factories import make_member, valid_id_number

_names = count(1)
APPLIED = date(2023, 3, 1)


def make_case(org: Any, *, name: str | None = None, applied_on: date = APPLIED) -> DevelopmentCase:
    return case_create(
        actor=None,
        data={
            "organization": org,
            "name": name or f"申请人{next(_names):03d}",
            "id_number": valid_id_number(date(2000, 5, 1)),
            "applied_on": applied_on,
        },
    )


def activist_case(org: Any, *, name: str | None = None, applied_on: date = APPLIED) -> DevelopmentCase:
    """A case made 入党积极分子 with one mentor (a full member of the branch, made here)."""
    case = make_case(org, name=name, applied_on=applied_on)
    mentor = make_member(org, f"联系人{next(_names):03d}")
    step_confirm(actor=None, case=case, data={"step": "talk", "date": applied_on + timedelta(days=10)})
    step_confirm(
        actor=None,
        case=case,
        data={
            "step": "activist",
            "date": applied_on + timedelta(days=20),
            "mentors": [mentor.pk],
            "recommendation": "members",
        },
    )
    case.refresh_from_db()
    return case


def pdf(name: str = "申请书.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n%test\n", content_type="application/pdf")


def with_document(case: DevelopmentCase, kind: str = "application") -> CaseDocument:
    return document_add(actor=None, case=case, kind=kind, file=pdf())
