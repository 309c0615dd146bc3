"""Give the 党员/讲师 roles sight of their own lecture data and the 评委 role its assigned reviews.
Adds the actions to rows that may have been tuned; removes only what it added."""

from django.db import migrations

ADDED = {
    "member": ["lectures.view"],
    "lecturer": ["lectures.view"],
    "reviewer": ["competitions.view", "competitions.change"],
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
    dependencies = [("accounts", "0002_default_roles")]
    operations = [migrations.RunPython(add_actions, remove_actions)]
