"""The delegated 出题人 (examiner) of issue 13: an organisation names someone to keep its question
banks and papers without making them an organisation administrator. The role covers the subtree
where it is held: reading organisations and exams, adding and changing banks, questions and
papers, importing and exporting questions. Creates the row, or adds the actions to a row that
already exists (written by ``default_roles_ensure`` after a flush, perhaps tuned since); the
reverse removes the role with its assignments."""

from django.db import migrations, models

CODE = "examiner"
NAME = "出题人"
ACTIONS = ["organizations.view", "exams.view", "exams.add", "exams.change", "exams.import", "exams.export"]


def add_role(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    role = Role.objects.filter(code=CODE).first()
    if role is None:
        Role.objects.create(code=CODE, name=NAME, scope="subtree", actions=ACTIONS)
        return
    role.actions = list(role.actions or []) + [a for a in ACTIONS if a not in (role.actions or [])]
    role.save(update_fields=["actions"])


def remove_role(apps, schema_editor):
    RoleAssignment = apps.get_model("accounts", "RoleAssignment")
    Role = apps.get_model("accounts", "Role")
    RoleAssignment.objects.filter(role__code=CODE).delete()
    Role.objects.filter(code=CODE).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0006_exam_role_actions")]
    operations = [
        migrations.AlterField(
            model_name="role",
            name="code",
            field=models.CharField(
                choices=[
                    ("sysadmin", "系统管理员"),
                    ("secadmin", "安全管理员"),
                    ("auditor", "审计管理员"),
                    ("org_admin", "组织部/工委管理员"),
                    ("branch_admin", "党务工作者/支部书记"),
                    ("member", "党员"),
                    ("lecturer", "讲师"),
                    ("reviewer", "评委"),
                    ("inspector", "督导员"),
                    ("examiner", "出题人"),
                ],
                max_length=32,
                unique=True,
                verbose_name="代码",
            ),
        ),
        migrations.RunPython(add_role, remove_role),
    ]
