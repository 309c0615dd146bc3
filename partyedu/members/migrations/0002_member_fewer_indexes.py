"""Fewer indexes on the members table, each of which every insert must update (an import of
10,000 members into a city of 100,000 spent a third of the database's time on them):

- ``organization_id`` alone: ``member_org_name_idx`` (organization, name) starts with it;
- ``name_initials`` (and its ``_like`` twin): searched only with ``contains``, which a B-tree
  cannot answer;
- ``id_number_hash``'s ``_like`` twin (PostgreSQL): a digest is matched by equality only, which
  the unique index answers."""

import django.db.models.deletion
from django.db import migrations, models


def _hash_like_index(schema_editor, model):
    return schema_editor._create_index_name(model._meta.db_table, ["id_number_hash"], suffix="_like")


def drop_hash_like_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("members", "Member")
    schema_editor.execute(schema_editor._delete_index_sql(model, _hash_like_index(schema_editor, model)))


def create_hash_like_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("members", "Member")
    schema_editor.execute(
        schema_editor._create_like_index_sql(model, model._meta.get_field("id_number_hash"))
    )


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0001_initial"),
        ("organizations", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(drop_hash_like_index, create_hash_like_index, elidable=True),
        migrations.AlterField(
            model_name="member",
            name="name_initials",
            field=models.CharField(blank=True, editable=False, max_length=100, verbose_name="姓名拼音首字母"),
        ),
        migrations.AlterField(
            model_name="member",
            name="organization",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="members",
                to="organizations.organization",
                verbose_name="所在党组织",
            ),
        ),
    ]
