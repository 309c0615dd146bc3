# Written by hand (brief H3): cadence rules get a period (week … year), a minimum count and the
# kind of organisation they apply to; 党小组会 are counted per party group.

from django.db import migrations, models
from django.db.models import Case, Count, F, When
from django.db.models.functions import ExtractMonth, ExtractYear

MONTHS = [f"m{n}" for n in range(1, 13)]

# per_months → (period, factor on times). 2 and 4 months have no period of their own: the rule
# keeps the number of activities a year, over the shortest period that holds whole old ones
# (every 2 months once → 3 a half-year; every 4 months once → 3 a year), never a stricter one.
PERIODS = {
    1: ("month", 1),
    2: ("half_year", 3),
    3: ("quarter", 1),
    4: ("year", 3),
    6: ("half_year", 1),
    12: ("year", 1),
}
PER_MONTHS = {"week": (1, 4), "month": (1, 1), "quarter": (3, 1), "half_year": (6, 1), "year": (12, 1)}


def rules_forwards(apps, schema_editor):
    CadenceRule = apps.get_model("study", "CadenceRule")
    for rule in CadenceRule.objects.all():
        period, factor = PERIODS.get(rule.per_months, ("year", 12 // max(rule.per_months, 1)))
        rule.period, rule.min_count = period, rule.min_count * factor
        rule.applies_to = "branch"  # the old rules applied to branches only
        rule.save(update_fields=["period", "min_count", "applies_to"])


def rules_backwards(apps, schema_editor):
    """Back to branch-only rules in months (a weekly rule becomes 4 a month; the rules for party
    groups and 党委 have no old form and are dropped)."""
    CadenceRule = apps.get_model("study", "CadenceRule")
    CadenceRule.objects.exclude(applies_to="branch").delete()
    for rule in CadenceRule.objects.all():
        per_months, factor = PER_MONTHS[rule.period]
        rule.per_months, rule.min_count = per_months, rule.min_count * factor
        rule.save(update_fields=["per_months", "min_count"])


def _recount_group_meetings(apps, *, per_group):
    """Count every 党小组会 again: for the party group that held it (``per_group``), or as before
    for the group's branch."""
    Activity = apps.get_model("study", "Activity")
    ActivityMonthCount = apps.get_model("study", "ActivityMonthCount")
    ActivityMonthCount.objects.filter(activity_type="group_meeting").delete()
    counted = (
        F("organization_id")
        if per_group
        else Case(
            When(
                organization__level="group",
                organization__parent__isnull=False,
                then=F("organization__parent_id"),
            ),
            default=F("organization_id"),
        )
    )
    rows = (
        Activity.objects.filter(activity_type="group_meeting")
        .annotate(counted=counted, year=ExtractYear("start"), month=ExtractMonth("start"))
        .values("counted", "year", "month")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[tuple[int, int], list[int]] = {}
    for row in rows.iterator(chunk_size=10000):
        counts.setdefault((row["counted"], row["year"]), [0] * 12)[row["month"] - 1] += row["n"]
    ActivityMonthCount.objects.bulk_create(
        [
            ActivityMonthCount(
                organization_id=org_id,
                year=year,
                activity_type="group_meeting",
                **dict(zip(MONTHS, months, strict=True)),
            )
            for (org_id, year), months in counts.items()
        ],
        batch_size=2000,
    )


def counts_forwards(apps, schema_editor):
    _recount_group_meetings(apps, per_group=True)


def counts_backwards(apps, schema_editor):
    _recount_group_meetings(apps, per_group=False)


class Migration(migrations.Migration):
    dependencies = [
        ("study", "0005_teaching_format_and_site_kinds"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="cadencerule", name="cadence_rule_unique"),
        # A default only so that the field can be added back when this migration is reversed.
        migrations.AlterField(
            model_name="cadencerule",
            name="per_months",
            field=models.PositiveSmallIntegerField(default=1, verbose_name="周期（月）"),
        ),
        migrations.AddField(
            model_name="cadencerule",
            name="applies_to",
            field=models.CharField(
                choices=[("branch", "党支部"), ("group", "党小组"), ("committee", "党委（党组、党工委）")],
                default="branch",
                help_text="该组织及其下级组织中哪一类组织应开展",
                max_length=16,
                verbose_name="适用于",
            ),
        ),
        migrations.AddField(
            model_name="cadencerule",
            name="period",
            field=models.CharField(default="month", max_length=16, verbose_name="周期"),
        ),
        migrations.RenameField(model_name="cadencerule", old_name="times", new_name="min_count"),
        migrations.RunPython(rules_forwards, rules_backwards),
        migrations.RemoveField(model_name="cadencerule", name="per_months"),
        migrations.AlterField(
            model_name="cadencerule",
            name="period",
            field=models.CharField(
                choices=[
                    ("week", "每周"),
                    ("month", "每月"),
                    ("quarter", "每季度"),
                    ("half_year", "每半年"),
                    ("year", "每年"),
                ],
                max_length=16,
                verbose_name="周期",
            ),
        ),
        migrations.AlterField(
            model_name="cadencerule",
            name="min_count",
            field=models.PositiveSmallIntegerField(
                default=1, help_text="0 表示不要求开展", verbose_name="每个周期至少（次）"
            ),
        ),
        migrations.AddConstraint(
            model_name="cadencerule",
            constraint=models.UniqueConstraint(
                fields=("organization", "applies_to", "activity_type"), name="cadence_rule_unique"
            ),
        ),
        migrations.AlterField(
            model_name="activitymonthcount",
            name="organization",
            field=models.ForeignKey(
                help_text="举办活动的组织；党小组的党小组会计入党小组本身，其他活动计入所在党支部",
                on_delete=models.deletion.CASCADE,
                related_name="activity_month_counts",
                to="organizations.organization",
                verbose_name="计入组织",
            ),
        ),
        migrations.RunPython(counts_forwards, counts_backwards),
    ]
