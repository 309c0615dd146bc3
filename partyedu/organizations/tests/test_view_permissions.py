"""The three scope cases for every organisation page that acts on one organisation, and for the
export (list semantics)."""

import io

from django.urls import reverse
from openpyxl import load_workbook

from partyedu.core.testing import ScopedEndpointTests


class OrgPage(ScopedEndpointTests):
    url_name = ""

    def make_object(self, org):
        return org

    def url(self, obj):
        return reverse(self.url_name, args=[obj.pk])


class TestEditPageScope(OrgPage):
    url_name = "organizations:edit"


class TestMovePageScope(OrgPage):
    url_name = "organizations:move"


class TestDeactivatePageScope(OrgPage):
    url_name = "organizations:deactivate"


class TestChildCreatePageScope(OrgPage):
    url_name = "organizations:create"

    def url(self, obj):
        return reverse("organizations:create") + f"?parent={obj.pk}"


class TestExportScope(ScopedEndpointTests):
    url_name = "organizations:export"
    kind = "list"

    def make_object(self, org):
        return org

    def url(self, obj):
        return reverse("organizations:export")

    def listed(self, response, obj):
        sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
        return any(obj.code in [str(c) for c in row] for row in sheet.iter_rows(values_only=True))
