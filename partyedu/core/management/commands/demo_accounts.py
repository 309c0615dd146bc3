from django.core.management.base import BaseCommand

from partyedu.core.demo import DEMO_PASSWORD, demo_account_rows, format_table


class Command(BaseCommand):
    help = "列出演示账号（用户名、角色、范围）"

    def handle(self, *args, **options):
        rows = demo_account_rows()
        if not rows:
            self.stdout.write("没有演示账号；运行 python manage.py seed_demo 生成演示数据")
            return
        self.stdout.write(f"演示账号（密码均为 {DEMO_PASSWORD}，仅供演示）：")
        for line in format_table(("用户名", "角色", "范围"), rows):
            self.stdout.write(line)
