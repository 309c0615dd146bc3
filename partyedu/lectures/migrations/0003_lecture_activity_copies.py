import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("lectures", "0002_statistics_summaries"),
    ]

    operations = [
        migrations.AlterField(
            model_name="lecture",
            name="start",
            field=models.DateTimeField(
                editable=False, help_text="党课活动的开始时间", verbose_name="党课时间"
            ),
        ),
        migrations.AlterField(
            model_name="lecture",
            name="organization",
            field=models.ForeignKey(
                editable=False,
                help_text="党课活动的组织",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="organizations.organization",
                verbose_name="党组织",
            ),
        ),
        migrations.AddIndex(
            model_name="lecture",
            index=models.Index(fields=["start", "id"], name="lecture_start_idx"),
        ),
    ]
