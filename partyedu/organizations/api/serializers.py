from __future__ import annotations

from typing import Any, cast

from rest_framework import serializers

from partyedu.core.api.permissions import scope_action
from partyedu.organizations.models import Organization
from partyedu.organizations.selectors import organization_choices


class OrganizationSerializer(serializers.ModelSerializer):
    """A party organisation. ``path`` is the position in the tree and is written by the server
    only; moving an organisation (and its subtree) is a change of ``parent``."""

    parent = serializers.PrimaryKeyRelatedField(  # type: ignore[assignment]  # a field, not Field.parent
        queryset=Organization.objects.none(),
        allow_null=True,
        label="上级组织",
        help_text="上级组织ID。修改即把本组织连同全部下级移到新的上级之下",
    )

    class Meta:
        model = Organization
        fields = ["id", "name", "short_name", "code", "parent", "level", "org_type", "path", "is_active"]
        read_only_fields = ["path", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # A parent must lie where the caller may add (create) or change (move) organisations;
            # any other id is answered as if it did not exist.
            choices = organization_choices(user=request.user, action=scope_action(request.method))
            if isinstance(self.instance, Organization) and self.instance.parent_id:
                # A PUT repeats the current parent, which may lie above the caller's scope.
                choices = choices | Organization.objects.filter(pk=self.instance.parent_id)
            cast(serializers.PrimaryKeyRelatedField, self.fields["parent"]).queryset = choices

    def validate_parent(self, value: Organization | None) -> Organization | None:
        if value is None and (self.instance is None or self.instance.parent_id is not None):
            raise serializers.ValidationError("请选择上级组织")
        return value
