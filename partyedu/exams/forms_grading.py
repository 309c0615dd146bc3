"""The grader's form: points for one short answer. ``answer_grade`` checks the range."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class GradeForm(forms.Form):
    points = forms.DecimalField(
        label=_("得分"),
        min_value=Decimal(0),
        max_digits=6,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.5", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, max_points: Decimal | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if max_points is not None:
            field = self.fields["points"]
            field.widget.attrs["max"] = str(max_points)
            field.help_text = _("0 至 %(n)s 分") % {"n": max_points}
