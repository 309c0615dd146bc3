from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from partyedu.demo.seed import (
    DEMO_PASSWORD,
    demo_account_rows,
    demo_otp_accounts,
    demo_otp_code,
    format_table,
    otp_lines,
)


class Command(BaseCommand):
    help = "列出演示账号（用户名、角色、范围）及演示用动态验证码"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--otp", action="store_true", help="显示须双因素认证的演示账号当前的动态验证码（仅演示环境）"
        )

    def handle(self, *args, **options):
        rows = demo_account_rows()
        if not rows:
            self.stdout.write("没有演示账号；运行 python manage.py seed_demo 生成演示数据")
            return
        if options["otp"]:
            if not getattr(settings, "ALLOW_DEMO_SEED", False):
                raise CommandError("当前环境不是演示环境，不显示动态验证码")
            for username in demo_otp_accounts():
                self.stdout.write(f"{username}  {demo_otp_code(username)}")
            self.stdout.write("验证码每30秒更新，每个只能使用一次。")
            return
        self.stdout.write(f"演示账号（密码均为 {DEMO_PASSWORD}，仅供演示）：")
        for line in format_table(("用户名", "角色", "范围"), rows):
            self.stdout.write(line)
        for line in otp_lines(demo_otp_accounts()):
            self.stdout.write(line)
