"""``manage.py housekeeping``: the nightly cleaning (expired sessions and tokens, abandoned import
uploads, old jobs) that Celery beat runs in production; cron can run this instead."""

from typing import Any

from django.core.management.base import BaseCommand

from partyedu.core.housekeeping import housekeeping


class Command(BaseCommand):
    help = "清理过期会话、令牌、未确认的导入文件和过期的后台任务"

    def handle(self, *args: Any, **options: Any) -> None:
        for name, removed in housekeeping().items():
            self.stdout.write(f"{name}: {removed}")
