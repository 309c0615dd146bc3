from django.db import migrations


def create_roles(apps, schema_editor):
    from partyedu.accounts.choices import ROLE_DEFAULTS, RoleCode

    Role = apps.get_model("accounts", "Role")
    for code, (scope, actions) in ROLE_DEFAULTS.items():
        Role.objects.update_or_create(
            code=str(code),
            defaults={"name": str(RoleCode(code).label), "scope": str(scope), "actions": actions},
        )


def delete_roles(apps, schema_editor):
    apps.get_model("accounts", "Role").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(create_roles, delete_roles)]
