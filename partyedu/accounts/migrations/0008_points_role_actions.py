"""Points (issue 14): a 党员 sees their own points (``points.view`` over themself). The
organisation roles reach points through their wildcard actions: 组织部/工委管理员 define schemes
and record manual points over their subtree, 党务工作者 the same over theirs. Adds the action to
rows that may have been tuned; removes only what it added."""

from django.db import migrations

ADDED = {
    "member": ["points.view"],
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
    dependencies = [("accounts", "0007_examiner_role")]
    operations = [migrations.RunPython(add_actions, remove_actions)]
