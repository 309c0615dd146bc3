from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.models import ProtectedError

from partyedu.demo.seed import (
    DEFAULT_MEMBERS,
    DEFAULT_SEED,
    MIN_MEMBERS,
    build_demo,
    clear_data,
    has_data,
    summary_lines,
)


class Command(BaseCommand):
    help = (
        "生成演示数据：一个虚构城市的党组织、党员和演示账号，以及2026年的学习活动、出勤、培训班、"
        "学习计划、网上学习和由此重算的学时台账（同一 seed 结果相同）"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--members", type=int, default=DEFAULT_MEMBERS, help="党员人数（默认 %(default)s）"
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="随机种子（默认 %(default)s）")
        parser.add_argument(
            "--no-accounts", action="store_true", help="不在结尾列出演示账号（make run 另行列出）"
        )
        parser.add_argument(
            "--no-study",
            action="store_true",
            help="只生成党组织、党员和账号，不生成学习活动、出勤、培训班、学习计划和学时台账",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="数据库已有数据时，先删除全部党组织、党员、角色分配和敏感信息授权，再重新生成",
        )

    def handle(self, *args, **options):
        if not getattr(settings, "ALLOW_DEMO_SEED", False):
            raise CommandError("当前环境不允许生成演示数据（ALLOW_DEMO_SEED 已关闭，生产环境禁止使用）")
        if options["members"] < MIN_MEMBERS:
            raise CommandError(f"党员人数至少为 {MIN_MEMBERS}")
        if has_data():
            if not options["force"]:
                self.stdout.write("数据库已有数据，未重复生成")
                return
            try:
                clear_data()
            except ProtectedError as exc:
                raise CommandError(f"无法清除现有数据（仍有其他数据引用党组织或党员）：{exc}") from None
            self.stdout.write("已清除现有党组织和党员数据")
        result = build_demo(
            members=options["members"],
            seed=options["seed"],
            progress=self.stdout.write,
            study=not options["no_study"],
        )
        for line in summary_lines(result, accounts=not options["no_accounts"]):
            self.stdout.write(line)
        if connection.vendor == "postgresql":
            # A city written in one go: give the planner its statistics now rather than when
            # autovacuum gets round to it (the dashboards' grouped queries depend on them).
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
