from django.core.management.base import BaseCommand

from partyedu.members.services import member_summaries_rebuild
from partyedu.organizations.services import rebuild_org_paths


class Command(BaseCommand):
    help = "从上级关系重建全部党组织路径，并重算党员的组织路径副本和各组织在册党员数（报告差异）"

    def handle(self, *args, **options):
        changed = rebuild_org_paths()
        self.stdout.write(f"已重建组织路径：{changed} 个组织的路径有变化")
        summary = member_summaries_rebuild()
        self.stdout.write(
            f"党员组织路径副本：{summary['member_paths']} 条有差异；在册党员数：{summary['member_counts']} 个组织有差异"
        )
