"""Party members and candidates, and the history of their transfers between organisations."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from partyedu.core import pii
from partyedu.core.fields import EncryptedTextField
from partyedu.core.models import TimeStampedModel
from partyedu.core.scope import ScopedModel

from .choices import Education, Gender, MemberStatus


class Member(TimeStampedModel, ScopedModel):
    """A party member or candidate (积极分子、发展对象) registered in exactly one branch or party
    group. 身份证号 and 手机号 are encrypted at rest; ``id_number_hash`` is a keyed blind index that
    keeps the ID number unique and lets imports find an existing member by it."""

    # The organisation's path is copied onto the member (kept in step by the services that create,
    # transfer and move), so scoping and ordering of the largest table need no join.
    scope_path = "org_path"
    scope_self = "user"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登录账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="member",
    )
    # No index of its own: ``member_org_name_idx`` starts with it (one index less to keep up on
    # every insert of the largest table).
    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("所在党组织"),
        on_delete=models.PROTECT,
        related_name="members",
        db_index=False,
    )
    org_path = models.CharField(_("组织路径"), max_length=255, editable=False, default="")
    name = models.CharField(_("姓名"), max_length=50)
    # Searched with ``contains`` (a match inside the text), which no B-tree index can answer.
    name_initials = models.CharField(_("姓名拼音首字母"), max_length=100, blank=True, editable=False)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices)
    birth_date = models.DateField(_("出生日期"))
    ethnicity = models.CharField(_("民族"), max_length=20, default="汉族")
    education = models.CharField(_("学历"), max_length=16, choices=Education.choices, blank=True)
    id_number = EncryptedTextField(_("身份证号"))
    id_number_hash = models.CharField(_("身份证号索引"), max_length=64, unique=True, editable=False)
    phone = EncryptedTextField(_("手机号"), blank=True, default="")
    # Masked forms are what nearly everyone sees; keeping them avoids decrypting to display a mask.
    id_number_masked = models.CharField(_("身份证号（脱敏）"), max_length=32, editable=False, default="")
    phone_masked = models.CharField(
        _("手机号（脱敏）"), max_length=32, editable=False, blank=True, default=""
    )
    # The start of the 发展对象 training window (细则: ≥ 3 days or 24 学时 of concentrated training
    # between becoming a candidate and admission, across calendar years).
    candidate_on = models.DateField(
        _("确定为发展对象日期"),
        null=True,
        blank=True,
        help_text=_("支部确定其为发展对象的日期；发展对象培训从这一天起计算"),
    )
    joined_on = models.DateField(_("入党日期"), null=True, blank=True)
    full_member_on = models.DateField(_("转正日期"), null=True, blank=True)
    status = models.CharField(
        _("党员状态"), max_length=16, choices=MemberStatus.choices, default=MemberStatus.FULL
    )
    categories = models.JSONField(_("党员类别"), default=list, blank=True)
    is_exempt = models.BooleanField(
        _("免于硬性要求"), default=False, help_text=_("年老体弱、重病等，送学上门")
    )
    exempt_reason = models.CharField(_("免除原因"), max_length=200, blank=True)
    is_active = models.BooleanField(_("在册"), default=True)

    class Meta:
        verbose_name = _("党员")
        verbose_name_plural = _("党员")
        ordering = ["organization_id", "name", "id"]
        indexes = [
            models.Index(fields=["org_path", "name", "id"], name="member_path_name_idx"),
            models.Index(fields=["organization", "name"], name="member_org_name_idx"),
            models.Index(fields=["status"], name="member_status_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_id_number(self) -> str:
        return self.id_number_masked

    @property
    def masked_phone(self) -> str:
        return self.phone_masked

    def set_masked_fields(self) -> None:
        """Write the masked copies after 身份证号 or 手机号 changed (every writer calls this,
        bulk writers included)."""
        self.id_number_masked = pii.mask_id_number(self.id_number or "")
        self.phone_masked = pii.mask_mobile(self.phone or "")


class MemberTransfer(TimeStampedModel, ScopedModel):
    """One move of a member's organisational relationship (组织关系转接) from one organisation to
    another, kept as history. Visible from both ends of the move."""

    member = models.ForeignKey(
        Member, verbose_name=_("党员"), on_delete=models.CASCADE, related_name="transfers"
    )
    from_organization = models.ForeignKey(
        "organizations.Organization", verbose_name=_("转出组织"), on_delete=models.PROTECT, related_name="+"
    )
    to_organization = models.ForeignKey(
        "organizations.Organization", verbose_name=_("转入组织"), on_delete=models.PROTECT, related_name="+"
    )
    transferred_on = models.DateField(_("转接日期"))
    reason = models.CharField(_("转接原因"), max_length=200, blank=True)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    scope_path = "to_organization__path"

    class Meta:
        verbose_name = _("组织关系转接")
        verbose_name_plural = _("组织关系转接")
        ordering = ["-transferred_on", "-id"]

    def __str__(self) -> str:
        return f"{self.member} {self.from_organization} → {self.to_organization}"
