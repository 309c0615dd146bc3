"""``manage.py housekeeping``: the nightly cleaning (expired sessions and tokens, abandoned import
uploads, old jobs) that Celery beat runs in production; cron can run this instead.
``--frequent`` runs the per-minute steps instead (e.g. submitting exam attempts whose time is up)."""

from typing import Any

from django.core.management.base import BaseCommand

from partyedu.core.housekeeping import frequent, housekeeping


class Command(BaseCommand):
    help = "清理过期会话、令牌、未确认的导入文件和过期的后台任务"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--frequent", action="store_true", help="运行每分钟一次的任务（如考试到时自动交卷）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        done = frequent() if options["frequent"] else housekeeping()
        for name, removed in done.items():
            self.stdout.write(f"{name}: {removed}")
