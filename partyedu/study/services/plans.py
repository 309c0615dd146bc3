"""Study plans issued to a subtree and their required topics (必修课)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record, diff, snapshot
from partyedu.core.choices import AuditAction
from partyedu.core.scope import require
from partyedu.organizations.models import Organization

from ..choices import PlanKind
from ..models import Activity, RequiredTopic, StudyPlan
from ._common import APP, _check_fields, _clean_strings, _resolve, _same_pk, _user

PLAN_FIELDS = ("organization", "title", "kind", "year", "description", "topics")
PLAN_AUDIT_FIELDS = ("organization", "title", "kind", "year")
TOPIC_FIELDS = ("title", "description", "due_date", "sort_order")


def _plan_errors(plan: StudyPlan) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not plan.title:
        errors["title"] = ["请填写计划名称"]
    if not plan.year or not 2000 <= int(plan.year) <= 2100:
        errors["year"] = ["请填写正确的年度"]
    return errors


@transaction.atomic
def study_plan_issue(*, actor: Actor, data: dict[str, Any]) -> StudyPlan:
    """Issue a study plan to an organisation's subtree, with its required topics (必修课):
    ``topics`` is a list of ``{"title", "description"?, "due_date"?}``."""
    data = _clean_strings(dict(data))
    _check_fields(data, PLAN_FIELDS)
    topics = data.pop("topics", None) or []
    org = _resolve(Organization, data.pop("organization", None), "organization", "组织")
    if org is None:
        raise ValidationError({"organization": ["请选择下发组织"]})
    require(actor, "add", org, app_label=APP, message="您无权以该组织名义下发学习计划")
    plan = StudyPlan(organization=org, issued_by=_user(actor), **data)
    if not plan.kind:
        plan.kind = PlanKind.ANNUAL
    errors = _plan_errors(plan)
    topic_rows = []
    for number, item in enumerate(topics, start=1):
        item = _clean_strings(dict(item))
        unknown = [k for k in item if k not in TOPIC_FIELDS]
        if unknown or not item.get("title"):
            errors.setdefault("topics", []).append(f"第{number}个专题：请填写专题名称")
            continue
        item.setdefault("sort_order", number)
        topic_rows.append(RequiredTopic(**item))
    if errors:
        raise ValidationError(errors)
    plan.full_clean()
    plan.save()
    for topic in topic_rows:
        topic.plan = plan
        topic.full_clean()
    RequiredTopic.objects.bulk_create(topic_rows)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=plan,
        changes={
            "after": snapshot(plan, PLAN_AUDIT_FIELDS),
            "topics": [t.title for t in topic_rows],
        },
    )
    return plan


def _topic_log(topic: RequiredTopic) -> str:
    return f"{topic.title}（{topic.due_date:%Y-%m-%d}）" if topic.due_date else topic.title


def _replace_topics(plan: StudyPlan, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Make the plan's required topics equal to ``items`` (in this order): an item with the
    ``id`` of one of the plan's topics changes it, one without adds a topic, and a topic left out
    is removed. A topic that activities already cover is never removed (the activities would
    silently lose it): the whole change is refused. Returns the audit log of what changed."""
    # Locked so that an activity being recorded against a topic meanwhile either commits first
    # (and is counted below) or waits and then fails on the deleted topic.
    current = {t.pk: t for t in plan.topics.select_for_update()}
    errors: list[str] = []
    kept: set[int] = set()
    rows: list[tuple[RequiredTopic, bool]] = []
    for number, raw in enumerate(items, start=1):
        item = _clean_strings(dict(raw))
        pk = item.pop("id", None)
        unknown = [k for k in item if k not in TOPIC_FIELDS]
        if unknown or not item.get("title"):
            errors.append(f"第{number}个专题：请填写专题名称")
            continue
        if pk in (None, ""):
            topic = RequiredTopic(plan=plan)
        else:
            try:
                topic = current[int(pk)]
            except (KeyError, TypeError, ValueError):
                errors.append(f"第{number}个专题不属于本计划")
                continue
            if topic.pk in kept:
                errors.append(f"第{number}个专题重复")
                continue
            kept.add(topic.pk)
        before = (topic.title, topic.description, topic.due_date, topic.sort_order)
        for name, value in item.items():
            setattr(topic, name, value)
        topic.sort_order = number
        rows.append((topic, before != (topic.title, topic.description, topic.due_date, topic.sort_order)))
    removed = [t for pk, t in current.items() if pk not in kept]
    if removed:
        used = dict(
            Activity.objects.filter(required_topic__in=removed)
            .values("required_topic_id")
            .annotate(n=models.Count("id"))
            .order_by()
            .values_list("required_topic_id", "n")
        )
        for topic in removed:
            if used.get(topic.pk):
                errors.append(
                    f"专题“{topic.title}”已有{used[topic.pk]}次活动对应，不能删除；"
                    "如需调整，请修改专题名称或完成期限"
                )
    if errors:
        raise ValidationError({"topics": errors})
    log: dict[str, Any] = {}
    if removed:
        log["removed"] = [_topic_log(t) for t in removed]
        RequiredTopic.objects.filter(pk__in=[t.pk for t in removed]).delete()
    for topic, changed in rows:
        if topic.pk is None:
            topic.full_clean()
            topic.save()
            log.setdefault("added", []).append(_topic_log(topic))
        elif changed:
            topic.full_clean()
            topic.save()
            log.setdefault("changed", []).append(_topic_log(topic))
    return log


@transaction.atomic
def study_plan_update(*, actor: Actor, plan: StudyPlan, data: dict[str, Any]) -> StudyPlan:
    """Change a study plan: its title, kind, year and description, and — when ``topics`` is given
    — its required topics, a list of ``{"id"?, "title", "description"?, "due_date"?}`` that
    replaces them (see ``_replace_topics``). The issuing organisation is fixed."""
    plan = StudyPlan.objects.select_for_update(of=("self",)).select_related("organization").get(pk=plan.pk)
    require(actor, "change", plan.organization, app_label=APP, message="您无权修改该学习计划")
    data = _clean_strings(dict(data))
    _check_fields(data, PLAN_FIELDS)
    if "organization" in data and not _same_pk(data.pop("organization"), plan.organization_id):
        raise ValidationError({"organization": ["学习计划的下发组织不能修改"]})
    topics = data.pop("topics", None)
    before = snapshot(plan, PLAN_AUDIT_FIELDS)
    old_description = plan.description
    for name, value in data.items():
        setattr(plan, name, "" if name == "description" and value is None else value)
    errors = _plan_errors(plan)
    if errors:
        raise ValidationError(errors)
    plan.full_clean()
    plan.save()
    changes: dict[str, Any] = diff(before, snapshot(plan, PLAN_AUDIT_FIELDS))
    if plan.description != old_description:
        changes["description"] = ["…", "…"]
    if topics is not None:
        topic_log = _replace_topics(plan, list(topics))
        if topic_log:
            changes["topics"] = topic_log
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=plan, changes=changes)
    return plan
