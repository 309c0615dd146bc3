"""The 督导员 (inspector) reads the activities, reports and figures of the organisations assigned to
them and nothing else (issue 12): read-only views of organisations, study, learning, lectures and
supervision, and no longer the member records. Rewrites the inspector row's actions; the reverse
restores the earlier defaults."""

from django.db import migrations

BEFORE = ["organizations.view", "members.view"]
AFTER = ["organizations.view", "study.view", "learning.view", "lectures.view", "supervision.view"]


def set_actions(actions):
    def run(apps, schema_editor):
        Role = apps.get_model("accounts", "Role")
        Role.objects.filter(code="inspector").update(actions=actions)

    return run


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_api_token")]
    operations = [migrations.RunPython(set_actions(AFTER), set_actions(BEFORE))]
