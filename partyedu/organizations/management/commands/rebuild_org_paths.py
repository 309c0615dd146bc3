from django.core.management.base import BaseCommand

from partyedu.organizations.services import rebuild_org_paths


class Command(BaseCommand):
    help = "从上级关系重建全部党组织路径（修复手工改动后的数据）"

    def handle(self, *args, **options):
        changed = rebuild_org_paths()
        self.stdout.write(f"已重建组织路径：{changed} 个组织的路径有变化")
