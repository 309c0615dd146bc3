"""The three scope cases for every member page that acts on one member, and for the export
(list semantics)."""

import io

from django.urls import reverse
from openpyxl import load_workbook

from partyedu.core.testing import ScopedEndpointTests
from partyedu.testsupport.factories import make_member


class MemberPage(ScopedEndpointTests):
    url_name = ""

    def make_object(self, org):
        return make_member(org, "张三")

    def url(self, obj):
        return reverse(self.url_name, args=[obj.pk])


class TestEditPageScope(MemberPage):
    url_name = "members:edit"


class TestTransferPageScope(MemberPage):
    url_name = "members:transfer"


class TestExportScope(ScopedEndpointTests):
    url_name = "members:export"
    kind = "list"

    def make_object(self, org):
        return make_member(org, "张三")

    def url(self, obj):
        return reverse("members:export")

    def listed(self, response, obj):
        sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
        return any("张三" in [str(c) for c in row] for row in sheet.iter_rows(values_only=True))
