"""Exams (issue 13): a 党员 takes the exams given to them and sees their own attempts
(``exams.take`` and ``exams.view`` over themself). A 督导员 gets nothing here: results are
members' personal records, visible to the member and the levels above them, and a guidance team
is not a level above. The organisation roles reach exams through their
wildcard actions: 组织部/工委管理员 manage banks, papers and exams over their subtree, 党务工作者
the same over theirs and its results. Adds the actions to rows that may have been tuned; removes
only what it added."""

from django.db import migrations

ADDED = {
    "member": ["exams.view", "exams.take"],
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
    dependencies = [("accounts", "0005_inspector_read_actions")]
    operations = [migrations.RunPython(add_actions, remove_actions)]
