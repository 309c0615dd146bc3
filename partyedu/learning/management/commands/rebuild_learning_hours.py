from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from partyedu.learning.services import learning_hours_rebuild


class Command(BaseCommand):
    help = (
        "从出勤和网上学习进度重算全部学时，与学时台账、年度学时汇总、学时要求和组织达标人数核对并报告差异；"
        "加 --apply 时追加更正记录（从不修改已有记录）并修正汇总"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--apply", action="store_true", help="追加更正记录并修正汇总（默认只报告）")
        parser.add_argument("--check", action="store_true", help="有差异时以非零状态退出（用于巡检）")

    def handle(self, *args: Any, **options: Any) -> None:
        report = learning_hours_rebuild(apply=options["apply"])
        self.stdout.write(f"学时台账：{report.ledger} 处与来源不符")
        if report.applied:
            self.stdout.write(f"已追加更正记录：{report.ledger_rows_appended} 条")
        self.stdout.write(f"年度学时汇总：{report.year_hours} 条与台账不符")
        self.stdout.write(f"学时要求与达标标记：{report.requirements} 处不符")
        self.stdout.write(f"组织学时汇总：{report.summaries} 行不符")
        for line in report.samples:
            self.stdout.write(f"  {line}")
        if report.differences == 0:
            self.stdout.write(self.style.SUCCESS("核对完毕：0 处差异"))
        elif report.applied:
            self.stdout.write(self.style.WARNING(f"已更正 {report.differences} 处差异"))
        else:
            self.stdout.write(self.style.WARNING(f"共 {report.differences} 处差异（加 --apply 更正）"))
            if options["check"]:
                raise CommandError("学时核对有差异")
