from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from partyedu.lectures.summaries import lecture_figures_rebuild


class Command(BaseCommand):
    help = (
        "从党课记录、主讲人、评价、活动日期和党员信息重算党课统计汇总，与保存的汇总核对并报告差异；"
        "加 --apply 时以重算结果更正汇总"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--apply", action="store_true", help="更正汇总（默认只报告）")
        parser.add_argument("--check", action="store_true", help="有差异时以非零状态退出（用于巡检）")

    def handle(self, *args: Any, **options: Any) -> None:
        report = lecture_figures_rebuild(apply=options["apply"])
        self.stdout.write(f"党课时间和组织：{report.copies} 次党课与活动不符")
        self.stdout.write(f"党课统计计数：{report.tallies} 次党课与记录不符")
        self.stdout.write(f"讲党课责任人：{report.duty_members} 人与党员信息不符")
        self.stdout.write(f"组织党课统计汇总：{report.figures} 项不符")
        for line in report.samples:
            self.stdout.write(f"  {line}")
        if report.differences == 0:
            self.stdout.write(self.style.SUCCESS("核对完毕：0 处差异"))
        elif report.applied:
            self.stdout.write(self.style.WARNING(f"已更正 {report.differences} 处差异"))
        else:
            self.stdout.write(self.style.WARNING(f"共 {report.differences} 处差异（加 --apply 更正）"))
            if options["check"]:
                raise CommandError("党课统计汇总核对有差异")
