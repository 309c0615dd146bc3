"""Service and care (issue 16): a 党员 registers with their community, records services, makes
pledges and signs up for volunteer activities over themself (``service.view``, ``service.add``);
the care records of members in difficulty and the private notes of talks need ``service.care``,
which 组织部/工委管理员 and 党务工作者 hold over their subtree (their wildcards do not cover it).
Adds the actions to rows that may have been tuned; removes only what it added."""

from django.db import migrations

ADDED = {
    "member": ["service.view", "service.add"],
    "org_admin": ["service.care"],
    "branch_admin": ["service.care"],
}


def add_actions(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for code, actions in ADDED.items():
        for role in Role.objects.filter(code=code):
            role.actions = list(role.actions or []) + [a for a in actions if a not in (role.actions or [])]
            role.save(update_fields=["actions"])


def remove_actions(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for code, actions in ADDED.items():
        for role in Role.objects.filter(code=code):
            role.actions = [a for a in (role.actions or []) if a not in actions]
            role.save(update_fields=["actions"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0008_points_role_actions")]
    operations = [migrations.RunPython(add_actions, remove_actions)]
