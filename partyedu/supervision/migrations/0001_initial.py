from django.conf import settings
from django.db import migrations


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("organizations", "0001_initial"),
        ("accounts", "0004_api_token"),
        ("members", "0003_member_candidate_on"),
        ("study", "0006_cadence_periods_and_levels"),
        ("learning", "0006_counted_kinds_and_concentrated_training"),
        ("lectures", "0004_lecture_types_lecture_and_dialogue"),
        ("competitions", "0003_award_grades_categories_conflict_rule"),
        ("core", "0006_audit_partitioned_by_month"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations: list[migrations.operations.base.Operation] = []
