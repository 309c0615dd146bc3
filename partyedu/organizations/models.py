"""The party organisation tree."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from partyedu.core.models import TimeStampedModel
from partyedu.core.scope import ScopedModel, subtree_q

from .choices import OrgLevel, OrgType

SEGMENT_WIDTH = 4
SEGMENT_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def ancestor_paths(path: str) -> list[str]:
    """The path itself and every ancestor's path (each prefix of whole segments), root first."""
    return [path[:i] for i in range(SEGMENT_WIDTH, len(path) + 1, SEGMENT_WIDTH)]


LINEAGE_CHUNK = 1000  # ids or paths per IN list


def lineage_ids(org_ids: Iterable[int], known: Mapping[int, str] | None = None) -> dict[int, list[int]]:
    """Each organisation's id → the ids of itself and every ancestor, root first: what a
    cumulative figure adds an organisation's change to. ``known``: paths the caller has read
    already. Two queries per thousand organisations (one when every path is known); unknown
    ids are left out."""
    ids = sorted(set(org_ids))
    if not ids:
        return {}
    paths = {pk: known[pk] for pk in ids if known and pk in known}
    missing = [pk for pk in ids if pk not in paths]
    for start in range(0, len(missing), LINEAGE_CHUNK):
        chunk = missing[start : start + LINEAGE_CHUNK]
        paths.update(Organization.objects.filter(pk__in=chunk).values_list("pk", "path"))
    wanted = sorted({prefix for path in paths.values() for prefix in ancestor_paths(path)})
    by_path: dict[str, int] = {}
    for start in range(0, len(wanted), LINEAGE_CHUNK):
        prefixes = wanted[start : start + LINEAGE_CHUNK]
        by_path.update(Organization.objects.filter(path__in=prefixes).values_list("path", "pk"))
    return {pk: [by_path[prefix] for prefix in ancestor_paths(path)] for pk, path in paths.items()}


def all_lineage_ids() -> dict[int, list[int]]:
    """``lineage_ids`` of every organisation, in one query (a rebuild's roll-up)."""
    paths = dict(Organization.objects.values_list("pk", "path"))
    by_path = {path: pk for pk, path in paths.items()}
    return {pk: [by_path[prefix] for prefix in ancestor_paths(path)] for pk, path in paths.items()}


class Organization(TimeStampedModel, ScopedModel):
    """A party organisation: a committee (党委/党工委/党组), a general branch, a branch or a party
    group. ``path`` is the materialised position in the tree (fixed-width base-36 segments, one per
    level) and is written only by the create and move services; a subtree is one indexed range."""

    scope_path = "path"

    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    name = models.CharField(_("组织名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=50, blank=True)
    code = models.CharField(
        _("组织代码"), max_length=32, unique=True, help_text=_("唯一代码，导入时用于指定上级组织")
    )
    level = models.CharField(_("组织层级"), max_length=24, choices=OrgLevel.choices)
    org_type = models.CharField(_("单位类型"), max_length=16, choices=OrgType.choices, default=OrgType.OTHER)
    path = models.CharField(_("路径"), max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("深度"), default=0, editable=False)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("有效"), default=True)
    name_initials = models.CharField(_("名称拼音首字母"), max_length=100, blank=True, editable=False)
    member_count = models.PositiveIntegerField(
        _("在册党员数"),
        default=0,
        editable=False,
        help_text=_(
            "本组织及全部下级的在册党员数，由党员服务在同一事务中维护，可用 rebuild_org_paths 重算核对"
        ),
    )

    # What the tree pages attach to an instance for display (``organizations.views``); not columns.
    member_total: int
    inline_children: list[Organization]
    visible: bool

    class Meta:
        verbose_name = _("党组织")
        verbose_name_plural = _("党组织")
        ordering = ["path"]
        indexes = [models.Index(fields=["parent", "sort_order"], name="org_parent_sort_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    def is_descendant_of(self, other: Organization) -> bool:
        return self.path.startswith(other.path) and self.path != other.path

    def subtree_q(self, field: str = "path") -> Q:
        """Rows whose ``field`` (a path) lies in this organisation's subtree, itself included. For
        narrowing to a chosen organisation; scope decisions go through ``partyedu.core.scope``."""
        return subtree_q(field, [self.path])


class SubtreeFigure(models.Model):
    """One figure of an organisation *and everything below it*, for a year and a month of it
    (``month`` 0: the year as a whole): cumulative, like ``member_count``, so that a dashboard
    reads an organisation's rows and its children's whatever the size of the subtrees. ``name``
    says which figure, prefixed by the app that keeps it (``learning.online``: the online study
    hours credited to the members of the subtree). Written only by ``figures.subtree_figures_add``
    (increments added to an organisation and every ancestor, in the transaction of the change),
    carried by an organisation's move, and proved by the keeping app's rebuild."""

    organization = models.ForeignKey(
        Organization, verbose_name=_("党组织"), on_delete=models.CASCADE, related_name="subtree_figures"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    month = models.PositiveSmallIntegerField(_("月份"), help_text=_("0 表示全年"))
    name = models.CharField(_("指标"), max_length=48)
    value = models.DecimalField(_("数值"), max_digits=16, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("组织累计指标")
        verbose_name_plural = _("组织累计指标")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "year", "month", "name"], name="subtree_figure_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.year}-{self.month} {self.name}={self.value}"
