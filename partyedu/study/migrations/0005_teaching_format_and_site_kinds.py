"""Rule 7 (seed 000; DOMAIN_RULES): 流动课堂 is a teaching format, not a kind of place. Activities
gain a teaching format (教学形式, blank = 未填); the "N" of a 1+5+N network are 现场教学点, so the
places recorded as 流动课堂 become 现场教学点 (and back, when reversed)."""

from django.db import migrations, models

SITE_KINDS = [
    ("main", "主阵地（党校）"),
    ("site", "教学点"),
    ("field_site", "现场教学点"),
    ("other", "其他"),
]


def classrooms_to_field_sites(apps, schema_editor):
    TeachingSite = apps.get_model("study", "TeachingSite")
    TeachingSite.objects.filter(kind="classroom").update(kind="field_site")


def field_sites_to_classrooms(apps, schema_editor):
    TeachingSite = apps.get_model("study", "TeachingSite")
    TeachingSite.objects.filter(kind="field_site").update(kind="classroom")


class Migration(migrations.Migration):
    dependencies = [
        ("study", "0004_central_group_membership"),
    ]

    operations = [
        migrations.AddField(
            model_name="activity",
            name="teaching_format",
            field=models.CharField(
                blank=True,
                choices=[
                    ("lecture", "讲授式"),
                    ("seminar", "研讨式"),
                    ("case", "案例式"),
                    ("scenario", "情景式"),
                    ("on_site", "现场教学"),
                    ("experience", "体验式"),
                    ("conversation", "谈话式"),
                    ("mobile", "流动课堂（项目拉练、现场观摩）"),
                ],
                help_text="讲授式、研讨式、现场教学、流动课堂等，可不填",
                max_length=16,
                verbose_name="教学形式",
            ),
        ),
        migrations.AlterField(
            model_name="teachingsite",
            name="kind",
            field=models.CharField(choices=SITE_KINDS, default="site", max_length=16, verbose_name="类型"),
        ),
        migrations.RunPython(classrooms_to_field_sites, field_sites_to_classrooms),
    ]
