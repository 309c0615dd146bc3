"""Forms of the study pages. They parse what a secretary types on a phone (a date and two times,
a place picked from a list or typed, names of members) into the data the services take; the
services apply the rules (scope, roster, times, places, topics)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partyedu.accounts.types import Viewer
from partyedu.core.forms import DateInput
from partyedu.core.scope import can
from partyedu.members.idnumber import normalize_id_number
from partyedu.members.models import Member
from partyedu.members.pii_index import id_number_index
from partyedu.members.selectors import default_organization
from partyedu.organizations.models import Organization
from partyedu.organizations.picker import OrganizationChoiceField

from . import selectors
from .choices import (
    FORMAT_BLANK,
    MAX_PHOTOS,
    ActivityType,
    CadenceLevel,
    CadencePeriod,
    CentralGroupRole,
    PlanKind,
    SiteKind,
    TeachingFormat,
)
from .models import Activity, EducationBase, RequiredTopic, StudyPlan, TeachingSite
from .services import MAX_MIN_COUNT

ALL = [("", _("全部"))]
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_NAMES = 500
NAME_SEPARATORS = re.compile(r"[\s,，、;；]+")
VENUE_SITE, VENUE_BASE = "site", "base"


def year_choices(extra: int | None = None) -> list[tuple[int, str]]:
    """Next year, this year and four years back (and ``extra`` if outside them), newest first."""
    this = timezone.localdate().year
    years = list(range(this + 1, this - 5, -1))
    if extra and extra not in years:
        years.append(extra)
        years.sort(reverse=True)
    return [(y, f"{y}年") for y in years]


class OwnedObjectForm(forms.Form):
    """The form of an object owned by an organisation, for both its create and its edit page.

    Creating, the organisation is picked from the user's ``add`` scope (starting with their
    own). Editing (``instance`` given), the organisation is fixed — the services refuse to move
    an object — so the field leaves the form, and every other field starts with the instance's
    value. ``create_only`` and ``edit_only`` name fields shown on one page only."""

    create_only: tuple[str, ...] = ()
    edit_only: tuple[str, ...] = ()

    def __init__(self, *args: Any, user: Viewer, instance: Any = None, **kwargs: Any) -> None:
        self.user = user
        self.instance = instance
        if instance is not None:
            initial = {
                name: getattr(instance, name)
                for name in self.base_fields
                if name != "organization" and name not in self.create_only and hasattr(instance, name)
            }
            initial.update(kwargs.get("initial") or {})
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        if instance is None:
            field = cast(OrganizationChoiceField, self.fields["organization"])
            field.restrict_to(user=user, action="add", app_label="study")
            if not self.is_bound:
                field.initial = default_organization(user, "add", "study")
        else:
            del self.fields["organization"]
        for name in self.create_only if instance is not None else self.edit_only:
            del self.fields[name]


# --- members typed by name or ID number ----------------------------------------------------------


def resolve_members(*, user: Viewer, text: str) -> list[int]:
    """Member ids from names or ID numbers separated by spaces, commas, 、 or new lines, among
    the active members the user may see. Unknown and ambiguous names are errors that say what to
    do; an ID number always identifies one member."""
    tokens = list(dict.fromkeys(t for t in NAME_SEPARATORS.split(text or "") if t))
    if not tokens:
        return []
    if len(tokens) > MAX_NAMES:
        raise ValidationError(_("一次最多填写%(n)d人") % {"n": MAX_NAMES})
    visible = Member.objects.restrict(user, "view").filter(is_active=True)
    numbers = {t: normalize_id_number(t) for t in tokens if any(c.isdigit() for c in t)}
    by_hash = {id_number_index(n): t for t, n in numbers.items() if len(n) == 18}
    found: dict[str, int] = {}
    if by_hash:
        for pk, digest in visible.filter(id_number_hash__in=list(by_hash)).values_list(
            "pk", "id_number_hash"
        ):
            found[by_hash[digest]] = pk
    names = [t for t in tokens if t not in numbers]
    matches: dict[str, list[tuple[int, str]]] = {}
    if names:
        for pk, name, org in visible.filter(name__in=names).values_list("pk", "name", "organization__name"):
            matches.setdefault(name, []).append((pk, org))
    errors = []
    unknown = [t for t in tokens if t not in found and t not in matches]
    if unknown:
        errors.append(_("未找到以下党员（或不在您的管理范围内）：%(names)s") % {"names": "、".join(unknown)})
    for name, rows in matches.items():
        if len(rows) > 1:
            orgs = "、".join(org for _pk, org in rows)
            errors.append(
                _("有%(n)d名党员叫“%(name)s”（%(orgs)s），请改填其身份证号")
                % {"n": len(rows), "name": name, "orgs": orgs}
            )
        else:
            found[name] = rows[0][0]
    if errors:
        raise ValidationError(errors)
    return list(dict.fromkeys(found[t] for t in tokens))


class MemberNamesField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 3})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 20000)
        kwargs.setdefault(
            "help_text", _("填写姓名或身份证号，多人用逗号、顿号、空格或换行分开；重名的请填身份证号")
        )
        super().__init__(*args, **kwargs)


# --- images --------------------------------------------------------------------------------------

INVALID_IMAGE = _("“%(name)s”不是有效的图片文件，请上传照片（JPG、PNG 等格式）")


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


def _check_image(field: forms.ImageField, upload: Any) -> Any:
    name = getattr(upload, "name", "") or ""
    if getattr(upload, "size", 0) > MAX_IMAGE_BYTES:
        raise ValidationError(
            _("“%(name)s”超过 %(mb)d MB，请压缩后再上传")
            % {"name": name, "mb": MAX_IMAGE_BYTES // (1024 * 1024)}
        )
    try:
        return forms.ImageField.to_python(field, upload)
    except ValidationError:
        raise ValidationError(INVALID_IMAGE % {"name": name}, code="invalid_image") from None


class ImageUploadField(forms.ImageField):
    """One image, checked by Pillow, with a message that names the file."""

    widget = forms.FileInput(attrs={"accept": "image/*"})

    def to_python(self, data: Any) -> Any:
        if data in self.empty_values:
            return None
        return _check_image(self, data)


class MultipleImageField(forms.ImageField):
    """Several images in one file input; each is checked by Pillow."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleImageInput(attrs={"accept": "image/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        uploads = [d for d in (data if isinstance(data, list | tuple) else [data]) if d]
        if not uploads:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return []
        errors, images = [], []
        for upload in uploads:
            try:
                images.append(_check_image(self, upload))
            except ValidationError as exc:
                errors.extend(exc.messages)
        if errors:
            raise ValidationError(errors)
        return images


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%H:%M")


# --- activities ----------------------------------------------------------------------------------


class ActivityFilterForm(forms.Form):
    organization = OrganizationChoiceField(
        label=_("组织（含下级）"), queryset=None, required=False, empty_label=_("全部组织")
    )
    year = forms.TypedChoiceField(label=_("年度"), required=False, coerce=int, empty_value=None)
    activity_type = forms.ChoiceField(label=_("活动类型"), required=False, choices=ALL + ActivityType.choices)
    teaching_format = forms.ChoiceField(
        label=_("教学形式"),
        required=False,
        choices=[*ALL, *TeachingFormat.choices, (FORMAT_BLANK, _("未填"))],
    )
    q = forms.CharField(
        label=_("主题"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("主题包含的文字")}),
    )

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(OrganizationChoiceField, self.fields["organization"]).restrict_to(
            user=user, action="view", app_label="study"
        )
        cast(forms.ChoiceField, self.fields["year"]).choices = [("", _("全部年度")), *year_choices()]

    def filters(self) -> dict[str, Any]:
        if not self.is_bound:
            return {}
        self.is_valid()
        data = dict(getattr(self, "cleaned_data", {}))
        return {key: value for key, value in data.items() if value not in ("", None)}


def _rounded_now() -> datetime:
    now = timezone.localtime()
    return now.replace(minute=0 if now.minute < 30 else 30, second=0, microsecond=0)


def _venue_value(activity: Activity) -> str:
    if activity.site_id:
        return f"{VENUE_SITE}:{activity.site_id}"
    if activity.education_base_id:
        return f"{VENUE_BASE}:{activity.education_base_id}"
    return ""


class RequiredTopicChoiceField(forms.ModelChoiceField):
    """A required topic, labelled with the year and title of its plan."""

    def label_from_instance(self, obj: RequiredTopic) -> str:
        return f"{obj.plan.year}·{obj.plan.title}：{obj.title}"


class ActivityForm(forms.Form):
    """Record or edit an activity: made to be filled in on a phone in under a minute. Only type,
    topic, date and times are required; the organisation starts as the user's own."""

    activity_type = forms.ChoiceField(
        label=_("活动类型"), choices=ActivityType.choices, initial=ActivityType.THEME_DAY
    )
    teaching_format = forms.ChoiceField(
        label=_("教学形式"),
        required=False,
        choices=[("", _("未填")), *TeachingFormat.choices],
        help_text=_("可不填；项目拉练、现场观摩请选“流动课堂”"),
    )
    topic = forms.CharField(
        label=_("主题"), max_length=200, widget=forms.TextInput(attrs={"placeholder": _("如：学习党章")})
    )
    date = forms.DateField(label=_("日期"), widget=DateInput())
    start_time = forms.TimeField(label=_("开始"), widget=TimeInput())
    end_time = forms.TimeField(label=_("结束"), widget=TimeInput())
    organization = OrganizationChoiceField(label=_("组织"), queryset=None)
    venue = forms.ChoiceField(label=_("地点"), required=False)
    place = forms.CharField(
        label=_("其他地点"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("如：社区会议室")}),
    )
    host = forms.CharField(label=_("主持人"), required=False, max_length=50)
    recorder = forms.CharField(label=_("记录人"), required=False, max_length=50)
    required_topic = RequiredTopicChoiceField(
        label=_("对应必修专题"), queryset=RequiredTopic.objects.none(), required=False, empty_label=_("无")
    )
    minutes = forms.CharField(
        label=_("会议记录"), required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=20000
    )
    photos = MultipleImageField(
        label=_("现场照片"), required=False, help_text=_("最多%(n)d张，可一次选择多张") % {"n": MAX_PHOTOS}
    )
    sign_in_sheet = ImageUploadField(label=_("签到表（拍照）"), required=False)
    # Less used: under "更多选项".
    end_date = forms.DateField(
        label=_("结束日期"), required=False, widget=DateInput(), help_text=_("跨天的活动才需填写")
    )
    # The roster part (``roster_part``; record page only): the default roster of the type, the
    # 列席 it offers (``suggested_invitees`` / ``invite_suggested``, added by
    # ``_set_roster_part``), and names typed instead of the default or as further 列席.
    roster = MemberNamesField(label=_("改为指定人员（不用默认名单时填写）"))
    invitees = MemberNamesField(label=_("其他列席人员"))
    credited_hours = forms.DecimalField(
        label=_("认定学时"),
        required=False,
        min_value=Decimal("0"),
        max_digits=4,
        decimal_places=1,
        help_text=_("留空则按时长折算：1小时=1学时，半天=4，全天=8"),
    )
    # Shown for the types that credit only their study part (支部党员大会, 党小组会 by default).
    study_minutes = forms.IntegerField(
        label=_("其中学习时长（分钟）"),
        required=False,
        min_value=0,
        max_value=24 * 60,
        help_text=_("党员大会、党小组会只计集中学习的时间，如学习党章40分钟就填40；不填则不计学时"),
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "placeholder": _("如：40")}),
    )
    remove_files = forms.MultipleChoiceField(
        label=_("删除图片"), required=False, widget=forms.CheckboxSelectMultiple
    )
    # Ticked in the same-day warning (``same_day``) to record a second activity anyway.
    confirm_same_day = forms.BooleanField(label=_("确认仍要记录"), required=False)

    def __init__(
        self,
        *args: Any,
        user: Viewer,
        activity: Activity | None = None,
        organization: Organization | None = None,
        training_class: Any = None,
        **kwargs: Any,
    ) -> None:
        self.user = user
        self.activity = activity
        self.training_class = training_class
        self.fixed_organization = activity.organization if activity is not None else organization
        self.existing_files = list(activity.files.all()) if activity is not None else []
        self.same_day: Activity | None = None  # the earlier activity the warning names
        if activity is not None:
            kwargs.setdefault("initial", self.initial_from(activity))
        else:
            start = _rounded_now()
            end = min(start + timedelta(hours=2), start.replace(hour=23, minute=30))
            initial = {"date": start.date(), "start_time": start.time(), "end_time": end.time()}
            if training_class is not None:
                initial.update(
                    activity_type=ActivityType.ONLINE_CLASS
                    if training_class.is_online
                    else ActivityType.TRAINING_SESSION,
                    venue=f"{VENUE_SITE}:{training_class.site_id}" if training_class.site_id else "",
                )
            initial.update(kwargs.get("initial") or {})
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)

        if self.fixed_organization is not None:
            del self.fields["organization"]
        else:
            field = cast(OrganizationChoiceField, self.fields["organization"])
            field.restrict_to(user=user, action="add", app_label="study")
            if not self.is_bound:
                field.initial = default_organization(user, "add", "study")
        if activity is not None:
            del self.fields["roster"]
            del self.fields["invitees"]
            cast(forms.ChoiceField, self.fields["remove_files"]).choices = [
                (str(f.pk), f.get_kind_display()) for f in self.existing_files
            ]
        else:
            del self.fields["remove_files"]
        if training_class is not None:
            cast(forms.ChoiceField, self.fields["activity_type"]).choices = [
                (ActivityType.TRAINING_SESSION, ActivityType.TRAINING_SESSION.label),
                (ActivityType.ONLINE_CLASS, ActivityType.ONLINE_CLASS.label),
            ]
            del self.fields["roster"]
        self._set_place_choices()
        self._set_topic_choices()
        self._set_roster_part()
        # The types whose hours are only the study part at the organisation (the field is shown
        # for them; the page's script hides it for the others).
        modes = selectors.activity_credit_modes(user=user, organization=self._topic_organization())
        self.study_part_types = sorted(code for code, mode in modes.items() if mode == "study_part")

    @staticmethod
    def initial_from(activity: Activity) -> dict[str, Any]:
        start, end = timezone.localtime(activity.start), timezone.localtime(activity.end)
        return {
            "activity_type": activity.activity_type,
            "teaching_format": activity.teaching_format,
            "topic": activity.topic,
            "date": start.date(),
            "start_time": start.time().replace(second=0, microsecond=0),
            "end_time": end.time().replace(second=0, microsecond=0),
            "end_date": end.date() if end.date() != start.date() else None,
            "venue": _venue_value(activity),
            "place": activity.place,
            "host": activity.host,
            "recorder": activity.recorder,
            "required_topic": activity.required_topic_id,
            "minutes": activity.minutes,
            "credited_hours": activity.credited_hours,
            "study_minutes": activity.study_minutes,
        }

    # choices ---------------------------------------------------------------------------------
    def _topic_organization(self) -> Organization | None:
        if self.fixed_organization is not None:
            return self.fixed_organization
        field = self.fields["organization"]
        if self.is_bound:
            value = self.data.get(self.add_prefix("organization"))
            org = field.widget.selected_organization(value)
            if org is not None:
                field.widget.selected = org
                return org
            return None
        return field.initial

    def _set_place_choices(self) -> None:
        org = self.fixed_organization
        sites = list(selectors.teaching_site_choices(user=self.user, organization=org)[:200])
        bases = list(selectors.education_base_choices(user=self.user, organization=org)[:200])
        current = self.activity
        if current is not None and current.site_id and all(s.pk != current.site_id for s in sites):
            # Retired since, but still this activity's place (its id is set, so it exists).
            sites.append(cast(TeachingSite, current.site))
        if (
            current is not None
            and current.education_base_id
            and all(b.pk != current.education_base_id for b in bases)
        ):
            bases.append(cast(EducationBase, current.education_base))
        choices: list[Any] = [("", _("其他地点（在下面填写）"))]
        if sites:
            choices.append((_("教学点"), [(f"{VENUE_SITE}:{s.pk}", s.name) for s in sites]))
        if bases:
            choices.append((_("教育基地"), [(f"{VENUE_BASE}:{b.pk}", b.name) for b in bases]))
        cast(forms.ChoiceField, self.fields["venue"]).choices = choices
        if not sites and not bases:
            self.fields["venue"].widget = forms.HiddenInput()
            self.fields["place"].label = _("地点")
            self.fields["place"].widget.attrs["placeholder"] = _("如：社区会议室")

    def _set_topic_choices(self) -> None:
        org = self._topic_organization()
        field = cast(RequiredTopicChoiceField, self.fields["required_topic"])
        if org is not None:
            qs = selectors.required_topic_choices(user=self.user, organization=org)
        else:
            plans = selectors.study_plan_list(user=self.user)
            qs = RequiredTopic.objects.filter(plan__in=plans).select_related("plan")
        recent = timezone.localdate().year - 1
        condition = qs.filter(plan__year__gte=recent)
        if self.activity is not None and self.activity.required_topic_id:
            condition = condition | qs.filter(pk=self.activity.required_topic_id)
        field.queryset = condition.order_by("-plan__year", "plan_id", "sort_order", "id")
        if not field.queryset.exists():
            field.widget = forms.HiddenInput()

    # the roster part --------------------------------------------------------------------------
    def _set_roster_part(self) -> None:
        """On the record page (not an edit, not a class session) the form shows the default
        roster of the chosen type at the chosen organisation (``selectors.activity_roster_preview``)
        and ticks the 列席 it offers; the roster part posts back ``roster_key`` (which type and
        organisation it showed)."""
        self.roster_stale = False  # the type or organisation changed since the part was drawn
        self._roster_preview: selectors.RosterPreview | None = None
        self._roster_preview_done = False
        if self.activity is not None or self.training_class is not None:
            return
        self.fields["suggested_invitees"] = MemberIdsField(label=_("列席"))
        self.fields["invite_suggested"] = forms.BooleanField(label=_("请他们列席"), required=False)

    def roster_preview(self) -> selectors.RosterPreview | None:
        """The default roster for the type and organisation on the form (as posted, else as
        initially shown); None off the record page or before an organisation is chosen."""
        if self._roster_preview_done:
            return self._roster_preview
        self._roster_preview_done = True
        if "suggested_invitees" not in self.fields:
            return None
        org = self._topic_organization()
        if self.is_bound:
            activity_type = self.data.get(self.add_prefix("activity_type"))
        else:
            activity_type = self.initial.get("activity_type") or self.fields["activity_type"].initial
        if org is None or activity_type not in ActivityType.values:
            return None
        self._roster_preview = selectors.activity_roster_preview(
            user=self.user, organization=org, activity_type=str(activity_type)
        )
        return self._roster_preview

    def _posted_roster_key(self) -> str:
        return str(self.data.get(self.add_prefix("roster_key")) or "") if self.is_bound else ""

    @property
    def roster_part(self) -> dict[str, Any]:
        """The context of ``study/_roster_default.html``: what was ticked when the form comes back
        with errors, else the type's default ticks."""
        preview = self.roster_preview()
        if preview is not None and not self.roster_stale and self._posted_roster_key() == preview.key:
            data = cast(QueryDict, self.data)
            ticked = {int(v) for v in data.getlist(self.add_prefix("suggested_invitees")) if v.isdigit()}
            return roster_part_context(
                self.user,
                preview,
                ticked=ticked,
                all_ticked=bool(data.get(self.add_prefix("invite_suggested"))),
            )
        return roster_part_context(self.user, preview)

    def _check_roster_part(self, data: dict[str, Any]) -> None:
        preview = self.roster_preview()
        if preview is None:
            return
        posted = self._posted_roster_key()
        if posted and posted != preview.key and preview.invitee_count:
            # Changed without the part being redrawn (no JavaScript, or saved before it was): the
            # 列席 to tick differ, so show the new default first. Ticks of the old type are dropped.
            self.roster_stale = True
            self.add_error(
                None, _("活动类型或组织已改变，应到人员的默认名单随之改变：请核对“应到人员”后再保存")
            )
            return
        # An empty default that has a reason (送学上门, no committee registered) needs names; an
        # organisation without members simply records an empty roster, as before.
        empty = data.get("roster") is None and "roster" not in self.errors and not preview.count
        if empty and preview.roster.notice:
            self.add_error("roster", preview.roster.notice)

    def _suggested_invitee_data(self, invitees: list[int]) -> dict[str, Any]:
        """The 列席 ticked among those the default roster offered, for the service."""
        preview = self.roster_preview()
        if preview is None or self._posted_roster_key() != preview.key:
            return {}  # ticks made for another type or organisation (none offered now) are dropped
        if not preview.invitees_one_by_one:
            return {"invite_suggested": True} if self.cleaned_data.get("invite_suggested") else {}
        offered = {m.pk for m in preview.invitees}
        ticked = [pk for pk in self.cleaned_data.get("suggested_invitees") or [] if pk in offered]
        return {"invitees": list(dict.fromkeys([*invitees, *ticked]))} if ticked else {}

    # cleaning --------------------------------------------------------------------------------
    def clean_photos(self) -> list[Any]:
        photos = self.cleaned_data.get("photos") or []
        kept = [f for f in self.existing_files if f.kind == "photo"]
        data = cast(QueryDict, self.data)
        removed = set(data.getlist(self.add_prefix("remove_files"))) if self.is_bound else set()
        kept = [f for f in kept if str(f.pk) not in removed]
        if len(kept) + len(photos) > MAX_PHOTOS:
            if kept:
                raise ValidationError(
                    _("现场照片最多%(max)d张，已有%(kept)d张，本次最多再上传%(left)d张")
                    % {"max": MAX_PHOTOS, "kept": len(kept), "left": max(0, MAX_PHOTOS - len(kept))}
                )
            raise ValidationError(_("现场照片最多%(max)d张") % {"max": MAX_PHOTOS})
        return photos

    def clean_roster(self) -> list[int] | None:
        text = self.cleaned_data.get("roster", "")
        return resolve_members(user=self.user, text=text) if text.strip() else None

    def clean_invitees(self) -> list[int]:
        return resolve_members(user=self.user, text=self.cleaned_data.get("invitees", ""))

    def clean_venue(self) -> tuple[str, int] | None:
        value = self.cleaned_data.get("venue") or ""
        if not value:
            return None
        kind, _sep, pk = value.partition(":")
        return kind, int(pk)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day, start, end = data.get("date"), data.get("start_time"), data.get("end_time")
        if day and start and end:
            end_day = data.get("end_date") or day
            data["start"] = timezone.make_aware(datetime.combine(day, start))
            data["end"] = timezone.make_aware(datetime.combine(end_day, end))
            if data["end"] <= data["start"]:
                self.add_error("end_time", _("结束时间应晚于开始时间"))
        if day and not data.get("confirm_same_day"):
            self._check_same_day(data)
        self._check_roster_part(data)
        return data

    def _check_same_day(self, data: dict[str, Any]) -> None:
        """A second activity of the same type, organisation and day is usually the first one
        recorded twice: the form asks (``confirm_same_day``) before saving it. Class sessions
        (often two a day) are not checked, and an edit that keeps the type and day does not ask
        again (nor ever about the activity itself)."""
        activity, activity_type, day = self.activity, data.get("activity_type"), data["date"]
        org = self.fixed_organization or data.get("organization")
        if org is None or not activity_type or self.training_class is not None:
            return
        if activity is not None and (
            activity.training_class_id is not None
            or (activity.activity_type == activity_type and timezone.localtime(activity.start).date() == day)
        ):
            return
        earlier = selectors.activity_same_day(
            user=self.user,
            organization=org,
            activity_type=activity_type,
            day=day,
            exclude_pk=activity.pk if activity is not None else None,
        ).first()
        if earlier is None:
            return
        self.same_day = earlier
        self.add_error(
            "confirm_same_day",
            _("同一天该组织已有一次「%(type)s」：%(title)s，确认仍要再记录一次？")
            % {"type": ActivityType(activity_type).label, "title": earlier.topic},
        )

    def service_data(self) -> dict[str, Any]:
        """The ``data`` of ``activity_record`` / ``activity_update``."""
        d = self.cleaned_data
        venue = d.get("venue")
        data: dict[str, Any] = {
            "activity_type": d["activity_type"],
            "teaching_format": d.get("teaching_format", ""),
            "topic": d["topic"],
            "start": d["start"],
            "end": d["end"],
            "site": venue[1] if venue and venue[0] == VENUE_SITE else None,
            "education_base": venue[1] if venue and venue[0] == VENUE_BASE else None,
            "place": d.get("place", ""),
            "host": d.get("host", ""),
            "recorder": d.get("recorder", ""),
            "required_topic": d.get("required_topic"),
            "minutes": d.get("minutes", ""),
            "credited_hours": d.get("credited_hours"),
            "study_minutes": d.get("study_minutes"),
        }
        if self.activity is None:
            data["organization"] = self.fixed_organization or d["organization"]
            if self.training_class is not None:
                data["training_class"] = self.training_class
            if d.get("roster") is not None:
                data["roster"] = d["roster"]
            if d.get("invitees"):
                data["invitees"] = d["invitees"]
            data.update(self._suggested_invitee_data(data.get("invitees") or []))
        return data

    # service errors on the fields of this form
    FIELD_MAP = {
        "start": "start_time",
        "end": "end_time",
        "site": "venue",
        "education_base": "venue",
        "checkin_closes_at": "end_time",
        "training_class": None,
    }


def roster_part_context(
    user: Viewer,
    preview: selectors.RosterPreview | None,
    *,
    ticked: set[int] | None = None,
    all_ticked: bool | None = None,
) -> dict[str, Any]:
    """What ``study/_roster_default.html`` draws: the preview, which offered 列席 are ticked (the
    type's default unless given), and where to keep the 中心组 list when it is not set."""
    if preview is None:
        return {"preview": None, "ticked": set(), "all_ticked": False, "central_group_url": ""}
    default_ticked = preview.roster.invitees_ticked
    if ticked is None:
        ticked = {m.pk for m in preview.invitees} if default_ticked else set()
    central_group_url = ""
    if preview.roster.central_group_unset and can(user, "change", preview.organization, app_label="study"):
        central_group_url = reverse("study:central_group_detail", args=[preview.organization.pk])
    return {
        "preview": preview,
        "ticked": ticked,
        "all_ticked": all_ticked if all_ticked is not None else default_ticked,
        "central_group_url": central_group_url,
    }


class ActivityDeleteForm(forms.Form):
    confirm = forms.BooleanField(label=_("我已确认删除该活动及其出勤记录，已计入的学时将同步扣除"))


# --- study plans ---------------------------------------------------------------------------------

TOPIC_LINE = re.compile(r"^(?P<title>.+?)\s*(?:[|｜]\s*(?P<due>\S+))?\s*$")


class StudyPlanFilterForm(forms.Form):
    year = forms.TypedChoiceField(label=_("年度"), required=False, coerce=int, empty_value=None)
    kind = forms.ChoiceField(label=_("计划类型"), required=False, choices=ALL + PlanKind.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["year"]).choices = [("", _("全部年度")), *year_choices()]

    def filters(self) -> dict[str, Any]:
        if not self.is_bound or not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v not in ("", None)}


class StudyPlanForm(OwnedObjectForm):
    """Issue a plan, its topics typed one a line. Editing, the topics are rows of their own
    (``StudyPlanEditForm``)."""

    organization = OrganizationChoiceField(
        label=_("下发组织"), queryset=None, help_text=_("计划下发到本组织及全部下级组织")
    )
    title = forms.CharField(label=_("计划名称"), max_length=200)
    kind = forms.ChoiceField(label=_("计划类型"), choices=PlanKind.choices, initial=PlanKind.ANNUAL)
    year = forms.TypedChoiceField(label=_("年度"), coerce=int)
    description = forms.CharField(
        label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
    topics = forms.CharField(
        label=_("必修专题"),
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 6, "placeholder": "学习党章|2026-06-30\n学习二十届三中全会精神"}
        ),
        help_text=_("每行一个专题；需要完成期限的，在专题后加“|年-月-日”，如：学习党章|2026-06-30"),
    )
    create_only = ("topics",)

    def __init__(self, *args: Any, user: Viewer, instance: StudyPlan | None = None, **kwargs: Any) -> None:
        super().__init__(*args, user=user, instance=instance, **kwargs)
        cast(forms.ChoiceField, self.fields["year"]).choices = year_choices(
            instance.year if instance is not None else None
        )
        self.fields["year"].initial = timezone.localdate().year

    def clean_topics(self) -> list[dict[str, Any]]:
        topics, errors = [], []
        for number, line in enumerate((self.cleaned_data.get("topics") or "").splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            match = TOPIC_LINE.match(line)
            title = (match.group("title") if match else line).strip()
            due_text = match.group("due") if match else None
            item: dict[str, Any] = {"title": title[:200]}
            if due_text:
                try:
                    item["due_date"] = date.fromisoformat(due_text.replace("/", "-"))
                except ValueError:
                    errors.append(
                        _("第%(n)d行：完成期限“%(v)s”应写成 2026-06-30 的样子") % {"n": number, "v": due_text}
                    )
                    continue
            topics.append(item)
        if errors:
            raise ValidationError(errors)
        return topics


class TopicForm(forms.Form):
    """One required topic of a plan being edited: an existing one (``id``) or a new one."""

    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    title = forms.CharField(label=_("专题"), required=False, max_length=200)
    due_date = forms.DateField(label=_("完成期限"), required=False, widget=DateInput())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("title") and (data.get("id") or data.get("due_date")) and not data.get("DELETE"):
            self.add_error("title", _("请填写专题名称；不需要的专题请勾选“删除”"))
        return data


TopicFormSet = forms.formset_factory(TopicForm, extra=3, can_delete=True, can_delete_extra=False)


class StudyPlanEditForm(StudyPlanForm):
    """Edit a plan: its fields, and its topics as rows (rename, change the deadline, delete, and
    three blank rows to add). ``topic_forms`` is the formset of the rows; each existing row
    carries ``used``, the number of activities covering the topic. Such a topic cannot be
    deleted, so the page shows no delete box for it; a box ticked before an activity came to
    cover the topic still reaches the service, which refuses and says why."""

    def __init__(self, *args: Any, user: Viewer, instance: StudyPlan, **kwargs: Any) -> None:
        super().__init__(*args, user=user, instance=instance, **kwargs)
        topics = list(instance.topics.all())
        self.topic_forms = TopicFormSet(
            self.data if self.is_bound else None,
            prefix="topics",
            initial=[{"id": t.pk, "title": t.title, "due_date": t.due_date} for t in topics],
        )
        used = selectors.required_topic_usage(user=user, plan=instance)
        for row, topic in zip(self.topic_forms.forms, topics, strict=False):
            row.used = used.get(topic.pk, 0)  # type: ignore[attr-defined]

    def is_valid(self) -> bool:
        topics_valid = self.topic_forms.is_valid()
        return super().is_valid() and topics_valid

    def service_data(self) -> dict[str, Any]:
        """The ``data`` of ``study_plan_update``: the plan's fields and the topics kept and added,
        in the order of the rows; blank rows are left out."""
        topics = []
        for row in self.topic_forms.forms:
            d = getattr(row, "cleaned_data", None) or {}
            if d.get("DELETE") or not (d.get("id") or d.get("title")):
                continue
            topics.append({"id": d.get("id"), "title": d["title"], "due_date": d.get("due_date")})
        return {**self.cleaned_data, "topics": topics}


# --- training classes ----------------------------------------------------------------------------


class TrainingClassFilterForm(ActivityFilterForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["activity_type"]
        self.fields["q"].label = _("班次名称")
        self.fields["q"].widget.attrs["placeholder"] = _("名称包含的文字")


class TrainingClassForm(OwnedObjectForm):
    organization = OrganizationChoiceField(label=_("主办组织"), queryset=None)
    name = forms.CharField(label=_("班次名称"), max_length=200)
    start_date = forms.DateField(label=_("开班日期"), widget=DateInput())
    end_date = forms.DateField(label=_("结业日期"), widget=DateInput())
    schedule = forms.CharField(
        label=_("上课安排"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("如：每周二、周四晚 19:00–21:00")}),
    )
    site: forms.ModelChoiceField[TeachingSite] = forms.ModelChoiceField(
        label=_("教学点"), queryset=None, required=False, empty_label=_("无")
    )
    completion_percent = forms.IntegerField(
        label=_("结业出勤比例（%）"),
        min_value=1,
        max_value=100,
        initial=80,
        help_text=_("出勤不少于该比例即可结业"),
    )
    is_online = forms.BooleanField(label=_("网上班级（如为外卖骑手等流动党员开设）"), required=False)

    def __init__(self, *args: Any, user: Viewer, instance: Any = None, **kwargs: Any) -> None:
        if instance is not None:
            kwargs["initial"] = {
                "completion_percent": round(instance.completion_ratio * 100),
                **(kwargs.get("initial") or {}),
            }
        super().__init__(*args, user=user, instance=instance, **kwargs)
        sites = selectors.teaching_site_choices(user=user)
        if instance is not None and instance.site_id:
            # The class's own site stays a choice even if retired since.
            sites = sites | TeachingSite.objects.filter(pk=instance.site_id)
        cast(forms.ModelChoiceField, self.fields["site"]).queryset = sites

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("结业日期不能早于开班日期"))
        return data

    def service_data(self) -> dict[str, Any]:
        d = dict(self.cleaned_data)
        percent = d.pop("completion_percent")
        d["completion_ratio"] = (Decimal(percent) / 100).quantize(Decimal("0.01"))
        return d

    # service errors on the fields of this form
    FIELD_MAP = {"completion_ratio": "completion_percent"}


class MemberIdsField(forms.TypedMultipleChoiceField):
    """Ticked member ids. Any id is accepted here: the service checks each against the roll and
    the user's scope (and names the ones it refuses)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("coerce", int)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def valid_value(self, value: Any) -> bool:
        return str(value).isdigit()


class MemberPickForm(forms.Form):
    """Members ticked in a list of one organisation's members, and/or typed by name or ID number."""

    members = MemberIdsField(label=_("党员"))
    names = MemberNamesField(label=_("按姓名或身份证号添加"))

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        ids = list(data.get("members") or [])
        if "names" in data:
            try:
                ids += resolve_members(user=self.user, text=data["names"])
            except ValidationError as exc:
                self.add_error("names", exc)
        data["member_ids"] = list(dict.fromkeys(ids))
        if not data["member_ids"] and not self.errors:
            raise ValidationError(_("请勾选或填写党员"))
        return data


class DistributeForm(MemberPickForm):
    distributed_on = forms.DateField(label=_("发放日期"), widget=DateInput(), initial=date.today)


class OrganizationPickForm(forms.Form):
    """Which organisation's members to list for ticking."""

    organization = OrganizationChoiceField(label=_("从哪个组织选人（含下级）"), queryset=None, required=False)

    def __init__(
        self, *args: Any, user: Viewer, action: str = "view", label: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(OrganizationChoiceField, self.fields["organization"]).restrict_to(
            user=user, action=action, app_label="study"
        )
        if label:
            self.fields["organization"].label = label

    def picked(self) -> Organization | None:
        if self.is_bound and self.is_valid():
            return self.cleaned_data.get("organization")
        return None


# --- places --------------------------------------------------------------------------------------


class TeachingSiteForm(OwnedObjectForm):
    organization = OrganizationChoiceField(label=_("所属组织"), queryset=None)
    name = forms.CharField(label=_("名称"), max_length=100)
    kind = forms.ChoiceField(label=_("类型"), choices=SiteKind.choices, initial=SiteKind.SITE)
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    capacity = forms.IntegerField(label=_("可容纳人数"), required=False, min_value=1)
    contact = forms.CharField(label=_("联系人"), max_length=50, required=False)
    is_active = forms.BooleanField(
        label=_("启用"), required=False, help_text=_("停用后不再出现在活动地点的选项中，已有记录不变")
    )
    edit_only = ("is_active",)


class EducationBaseForm(OwnedObjectForm):
    organization = OrganizationChoiceField(label=_("登记组织"), queryset=None)
    name = forms.CharField(label=_("名称"), max_length=100)
    base_type = forms.CharField(label=_("基地类型"), max_length=50, initial="红色教育基地")
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    description = forms.CharField(
        label=_("简介"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
    is_active = forms.BooleanField(
        label=_("启用"), required=False, help_text=_("停用后不再出现在活动地点的选项中，已有记录不变")
    )
    edit_only = ("is_active",)


class PlaceFilterForm(forms.Form):
    organization = OrganizationChoiceField(
        label=_("组织（含下级）"), queryset=None, required=False, empty_label=_("全部组织")
    )
    q = forms.CharField(
        label=_("名称"), required=False, max_length=50, widget=forms.TextInput(attrs={"type": "search"})
    )

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(OrganizationChoiceField, self.fields["organization"]).restrict_to(
            user=user, action="view", app_label="study"
        )

    def filters(self) -> dict[str, Any]:
        if not self.is_bound:
            return {}
        self.is_valid()
        data = dict(getattr(self, "cleaned_data", {}))
        return {key: value for key, value in data.items() if value not in ("", None)}


# --- cadence and materials -----------------------------------------------------------------------


class OrgYearForm(forms.Form):
    """An organisation in the user's scope and a year (cadence report, material coverage)."""

    organization = OrganizationChoiceField(label=_("组织（含下级）"), queryset=None, required=False)
    year = forms.TypedChoiceField(label=_("年度"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, user: Viewer, app_label: str = "study", **kwargs: Any) -> None:
        self.user = user
        self.app_label = app_label
        super().__init__(*args, **kwargs)
        cast(OrganizationChoiceField, self.fields["organization"]).restrict_to(
            user=user, action="view", app_label=app_label
        )
        cast(forms.ChoiceField, self.fields["year"]).choices = year_choices()
        # The report shows this year when none is chosen; the picker must say so too.
        self.fields["year"].initial = timezone.localdate().year

    def values(self) -> tuple[Organization | None, int]:
        """The organisation (default: the top of the user's scope when it is one organisation)
        and the year (default: this year)."""
        org, year = None, None
        if self.is_bound and self.is_valid():
            org, year = self.cleaned_data.get("organization"), self.cleaned_data.get("year")
        if org is None and not (self.is_bound and self.errors.get("organization")):
            org = default_organization(self.user, action="view", app_label=self.app_label)
        return org, year or timezone.localdate().year


class ActivityStatsForm(OrgYearForm):
    """The activity statistics: an organisation and year, narrowed to a type or a teaching format."""

    activity_type = forms.ChoiceField(label=_("活动类型"), required=False, choices=ALL + ActivityType.choices)
    teaching_format = forms.ChoiceField(
        label=_("教学形式"),
        required=False,
        choices=[*ALL, *TeachingFormat.choices, (FORMAT_BLANK, _("未填"))],
    )

    def filters(self) -> dict[str, str]:
        if not (self.is_bound and self.is_valid()):
            return {}
        return {
            name: self.cleaned_data[name]
            for name in ("activity_type", "teaching_format")
            if self.cleaned_data.get(name)
        }


class MaterialForm(OwnedObjectForm):
    organization = OrganizationChoiceField(label=_("发放组织"), queryset=None)
    title = forms.CharField(label=_("材料名称"), max_length=200)
    year = forms.TypedChoiceField(label=_("年度"), coerce=int)

    def __init__(self, *args: Any, user: Viewer, instance: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, user=user, instance=instance, **kwargs)
        cast(forms.ChoiceField, self.fields["year"]).choices = year_choices(
            instance.year if instance is not None else None
        )
        self.fields["year"].initial = timezone.localdate().year


class CadenceRuleForm(forms.Form):
    """Set (create or replace) how often each organisation of one kind (党支部, 党小组, 党委) in an
    organisation's subtree must hold an activity type."""

    organization = OrganizationChoiceField(
        label=_("适用组织"),
        queryset=None,
        help_text=_("规定适用于该组织及其全部下级组织；下级组织另有规定的，从其规定"),
    )
    applies_to = forms.ChoiceField(
        label=_("哪一类组织开展"),
        choices=CadenceLevel.choices,
        initial=CadenceLevel.BRANCH,
        help_text=_("党小组会按各党小组分别统计；党委（党组）的党课指书记讲党课"),
    )
    activity_type = forms.ChoiceField(label=_("活动类型"), choices=ActivityType.choices)
    period = forms.ChoiceField(
        label=_("周期"),
        choices=CadencePeriod.choices,
        initial=CadencePeriod.MONTH,
        help_text=_("每周按周一至周日计，第几周按国家标准（GB/T 7408）"),
    )
    min_count = forms.IntegerField(
        label=_("每个周期至少开展（次）"),
        min_value=0,
        max_value=MAX_MIN_COUNT,
        initial=1,
        help_text=_("填 0 表示该组织及其下级不要求开展此类活动"),
    )

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(OrganizationChoiceField, self.fields["organization"])
        field.restrict_to(user=user, action="change", app_label="study")
        if not self.is_bound and "organization" not in self.initial:
            field.initial = default_organization(user, "change", "study")


STATUS_FIELD_PREFIX = "status_"


def posted_marks(data: Any) -> list[dict[str, Any]]:
    """The attendance marks of the roster form: ``status_<member id>`` = a status code."""
    records = []
    for key in data:
        if not key.startswith(STATUS_FIELD_PREFIX):
            continue
        value = data.get(key)
        if not value:
            continue
        records.append({"member": key[len(STATUS_FIELD_PREFIX) :], "status": value})
    return records


# --- 中心组 lists -----------------------------------------------------------------------------------


class CentralGroupMemberForm(forms.Form):
    """A 中心组 member's role, date joined and note."""

    role = forms.ChoiceField(
        label=_("中心组职务"),
        choices=CentralGroupRole.choices,
        initial=CentralGroupRole.MEMBER,
        widget=forms.RadioSelect,
    )
    since = forms.DateField(label=_("加入日期"), required=False, widget=DateInput())
    note = forms.CharField(
        label=_("备注"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("如：党委副书记、纪委书记")}),
    )


class CentralGroupAddForm(MemberPickForm, CentralGroupMemberForm):
    """Members ticked or typed, put on a 中心组 list with one role."""
