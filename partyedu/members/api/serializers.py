from __future__ import annotations

from typing import Any, cast

from rest_framework import serializers

from partyedu.accounts.selectors import can_see_pii, pii_paths
from partyedu.accounts.types import Viewer
from partyedu.core.api.permissions import scope_action
from partyedu.core.scope import path_in
from partyedu.members.choices import MemberCategory
from partyedu.members.models import Member
from partyedu.organizations.models import Organization
from partyedu.organizations.selectors import organization_choices

PII_HELP = "读取时默认脱敏显示，持有敏感信息授权者可见全文（每次查看记入审计日志）；写入时提交完整值"


class MemberSerializer(serializers.ModelSerializer):
    """A party member or candidate (党员). 身份证号 and 手机号 are masked on output unless the caller
    holds the personal-data grant for the member's organisation; every response that shows them in
    clear is written to the audit log."""

    # The serializer notes each member it shows in clear in the ``pii_disclosed`` list of its
    # context, so that the view writes one audit row per response, not one per member.

    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.none(),
        label="所在党组织",
        help_text="党支部或党小组的ID；创建后变更请办理组织关系转接",
    )
    id_number = serializers.CharField(label="身份证号", max_length=32, help_text=PII_HELP)
    phone = serializers.CharField(
        label="手机号", max_length=32, required=False, allow_blank=True, help_text=PII_HELP
    )
    categories = serializers.ListField(
        child=serializers.ChoiceField(choices=MemberCategory.choices),
        required=False,
        label="党员类别",
        help_text="可多选",
    )

    class Meta:
        model = Member
        fields = [
            "id",
            "name",
            "organization",
            "gender",
            "birth_date",
            "status",
            "categories",
            "is_exempt",
            "exempt_reason",
            "candidate_on",
            "joined_on",
            "full_member_on",
            "ethnicity",
            "education",
            "id_number",
            "phone",
        ]
        extra_kwargs = {
            "gender": {"required": False, "help_text": "不填则按身份证号推定"},
            "birth_date": {"required": False, "help_text": "不填则按身份证号推定"},
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # Only organisations where the caller may add (create) or change (update) members;
            # any other id is answered as if it did not exist.
            choices = organization_choices(
                user=request.user, action=scope_action(request.method), app_label="members"
            )
            if isinstance(self.instance, Member):
                # A PUT repeats the current organisation, even one since dissolved.
                choices = choices | Organization.objects.filter(pk=self.instance.organization_id)
            cast(serializers.PrimaryKeyRelatedField, self.fields["organization"]).queryset = choices

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A client without the grant can PUT back what it read: the masked value it was shown
        # means "unchanged" (a masked value can never be a real one: it contains '*').
        if self.instance is not None:
            shown = {"id_number": self.instance.masked_id_number, "phone": self.instance.masked_phone}
            for field, masked in shown.items():
                if masked and attrs.get(field) == masked:
                    del attrs[field]
        return attrs

    def to_representation(self, instance: Member) -> dict[str, Any]:
        data = super().to_representation(instance)
        request = self.context.get("request")
        # pii_paths are cached on the user, so this decision costs no query per row.
        if request is not None and can_see_pii(request.user, instance.organization.path):
            disclosed = self.context.get("pii_disclosed")
            if disclosed is not None:
                disclosed.append(instance.pk)
        else:
            data["id_number"] = instance.masked_id_number
            data["phone"] = instance.masked_phone
        return data


# Columns read for list rows. The encrypted originals are added only for callers holding a grant.
ROW_FIELDS = (
    "id",
    "name",
    "organization_id",
    "org_path",
    "gender",
    "birth_date",
    "status",
    "categories",
    "is_exempt",
    "exempt_reason",
    "candidate_on",
    "joined_on",
    "full_member_on",
    "ethnicity",
    "education",
    "id_number_masked",
    "phone_masked",
)


def member_row_values(queryset: Any, *, user: Viewer) -> Any:
    fields = ROW_FIELDS + (("id_number", "phone") if pii_paths(user) else ())
    return queryset.values(*fields)


def member_rows(values: Any, *, user: Viewer, disclosed: list[int]) -> list[dict[str, Any]]:
    """List rows in exactly the shape ``MemberSerializer`` gives for one member (a test holds the
    two together), built from plain values without per-row serializer machinery."""
    grants = pii_paths(user)
    rows = []
    for v in values:
        clear = bool(grants) and path_in(v["org_path"], grants)
        if clear:
            disclosed.append(v["id"])
        rows.append(
            {
                "id": v["id"],
                "name": v["name"],
                "organization": v["organization_id"],
                "gender": v["gender"],
                "birth_date": v["birth_date"].isoformat() if v["birth_date"] else None,
                "status": v["status"],
                "categories": v["categories"],
                "is_exempt": v["is_exempt"],
                "exempt_reason": v["exempt_reason"],
                "candidate_on": v["candidate_on"].isoformat() if v["candidate_on"] else None,
                "joined_on": v["joined_on"].isoformat() if v["joined_on"] else None,
                "full_member_on": v["full_member_on"].isoformat() if v["full_member_on"] else None,
                "ethnicity": v["ethnicity"],
                "education": v["education"],
                "id_number": v["id_number"] if clear else v["id_number_masked"],
                "phone": v["phone"] if clear else v["phone_masked"],
            }
        )
    return rows
