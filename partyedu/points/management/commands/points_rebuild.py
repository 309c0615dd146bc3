from typing import Any

from django.core.management.base import BaseCommand

from partyedu.points.services import points_rebuild


class Command(BaseCommand):
    help = "重新从出勤、补学、讲党课、考试、网上学习和手工记录推算积分台账，报告差异；--apply 追加更正记录"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--apply", action="store_true", help="追加更正记录，使台账与来源一致")

    def handle(self, *args: Any, **options: Any) -> None:
        report = points_rebuild(apply=options["apply"])
        self.stdout.write(f"积分台账差异：{report.differences}")
        for line in report.samples:
            self.stdout.write(f"  {line}")
        if report.applied:
            self.stdout.write(f"已追加更正记录：{report.rows_appended}")
