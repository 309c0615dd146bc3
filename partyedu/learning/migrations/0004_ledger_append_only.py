"""The learning-hours ledger becomes append-only in the database too (``partyedu.core.ledger``):
on PostgreSQL triggers refuse UPDATE, DELETE and TRUNCATE of ``learning_learninghourentry``, and
the member and the account that booked a line can no longer be deleted under it (PROTECT instead
of CASCADE / SET NULL, which would delete or change ledger lines). Neither field changes in the
database: ``on_delete`` is Django's."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from partyedu.core.ledger import append_only_trigger_operations


class Migration(migrations.Migration):
    dependencies = [
        ("learning", "0003_category_summaries"),
        ("members", "0002_member_fewer_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="learninghourentry",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="记账人",
            ),
        ),
        migrations.AlterField(
            model_name="learninghourentry",
            name="member",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="hour_entries",
                to="members.member",
                verbose_name="党员",
            ),
        ),
        *append_only_trigger_operations("learning_learninghourentry"),
    ]
