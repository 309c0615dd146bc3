"""The front end's shared pieces stay shared: one stylesheet instead of inline style blocks, one
partial for a section's tabs, one for breadcrumbs, one layout for confirming a deletion."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template import Context, Template, TemplateSyntaxError
from django.template.loader import render_to_string

BASE_DIR = Path(settings.BASE_DIR)
TEMPLATE_DIRS = [BASE_DIR / "templates", *BASE_DIR.glob("partyedu/*/templates")]
TEMPLATES = {
    str(path.relative_to(directory)): path.read_text()
    for directory in TEMPLATE_DIRS
    for path in directory.rglob("*.html")
}
STYLESHEET = "css/partyedu.css"
# Pages that do not extend base.html and so do not get the stylesheet: the public certificate
# check (opened by anyone from a printed certificate) and ReDoc's stand-alone API page.
OWN_STYLES = {"competitions/public_base.html", "api/redoc.html"}
SUBNAVS = [
    "study/_nav.html",
    "learning/_nav.html",
    "lectures/_nav.html",
    "competitions/_nav.html",
    "supervision/_nav.html",
    "supervision/guidance_tabs.html",
    "supervision/_dispatch_tabs.html",
    "members/_nav.html",
]
CONFIRM_PAGES = [
    "learning/requirement_delete.html",
    "learning/resource_delete.html",
    "learning/manual_reverse.html",
    "lectures/lecture_delete.html",
    "study/activity_delete.html",
    "competitions/entry_withdraw.html",
    "competitions/certificate_revoke.html",
    "organizations/deactivate.html",
    "exams/contest_delete.html",
    "exams/contest_round_delete.html",
    "exams/contest_award_revoke.html",
    "points/publication_withdraw.html",
    "points/veto_lift.html",
    "appraisal/step_close.html",
    "appraisal/follow_up_close.html",
    "development/close.html",
    "development/document_remove.html",
    "development/rules_reset.html",
]


def render(source: str, **context: object) -> str:
    html = Template("{% load i18n partyedu_nav %}" + source).render(Context(context))
    return re.sub(r">\s+<", "><", html.strip())


def test_no_template_has_a_style_block_except_the_stand_alone_pages():
    offenders = [name for name, text in TEMPLATES.items() if "<style" in text and name not in OWN_STYLES]

    assert offenders == []


def test_the_base_layout_links_the_project_stylesheet_which_exists():
    assert "{% static 'css/partyedu.css' %}" in TEMPLATES["base.html"]
    assert finders.find(STYLESHEET)


@pytest.mark.parametrize("name", SUBNAVS)
def test_every_section_draws_its_tabs_with_the_subnav_partial(name):
    assert "{% subnav " in TEMPLATES[name]
    assert "nav-pills" not in TEMPLATES[name]


def test_only_the_subnav_partial_draws_pills():
    assert [name for name, text in TEMPLATES.items() if "nav-pills" in text] == ["partials/subnav.html"]


def test_only_the_breadcrumb_partial_draws_a_breadcrumb():
    drawn = [name for name, text in TEMPLATES.items() if 'class="breadcrumb' in text]
    users = [name for name, text in TEMPLATES.items() if "{% breadcrumb %}" in text]

    assert drawn == ["partials/breadcrumb.html"]
    assert len(users) >= 30


@pytest.mark.parametrize("name", CONFIRM_PAGES)
def test_confirm_pages_extend_the_confirm_delete_layout(name):
    assert TEMPLATES[name].startswith('{% extends "confirm_delete.html" %}')


def test_subnav_marks_the_current_tab_only():
    html = render(
        '{% subnav "学习教育" current=tab %}'
        '{% subnav_item "activities" "学习活动" "study:activity_list" %}'
        '{% if show %}{% subnav_item "plans" _("学习计划") "study:plan_list" %}{% endif %}'
        "{% endsubnav %}",
        tab="activities",
        show=True,
    )

    assert html == (
        '<nav class="mb-3" aria-label="学习教育">'
        '<ul class="nav nav-pills flex-nowrap overflow-auto pb-1 pe-subnav">'
        '<li class="nav-item"><a class="nav-link text-nowrap active" aria-current="page" href="/study/activities/">学习活动</a></li>'
        '<li class="nav-item"><a class="nav-link text-nowrap" href="/study/plans/">学习计划</a></li>'
        "</ul></nav>"
    )


def test_section_tabs_render_as_before():
    html = render_to_string("study/_nav.html", {"tab": "cadence"})

    assert re.search(
        r'class="nav-link text-nowrap active" aria-current="page"\s+href="/study/cadence/">组织生活情况<',
        html,
    )
    assert html.count('aria-current="page"') == 1
    # One tab per item the template declares (the section grows: 活动统计, 中心组名单 …).
    assert html.count('class="nav-item"') == TEMPLATES["study/_nav.html"].count("{% subnav_item ")


def test_breadcrumb_links_all_but_the_current_page_and_escapes_labels():
    html = render(
        "{% breadcrumb %}"
        '{% crumb _("党组织") "organizations:tree" %}'
        "{% for a in ancestors %}{% crumb a %}{% endfor %}"
        '{% crumb column "learning:resource_list" column=7 %}'
        "{% crumb title %}"
        "{% endbreadcrumb %}",
        ancestors=["市委"],
        column="专栏",
        title="<b>党课</b>",
    )

    assert html == (
        '<nav aria-label="breadcrumb"><ol class="breadcrumb">'
        '<li class="breadcrumb-item"><a href="/organizations/">党组织</a></li>'
        '<li class="breadcrumb-item">市委</li>'
        '<li class="breadcrumb-item"><a href="/learning/resources/?column=7">专栏</a></li>'
        '<li class="breadcrumb-item active" aria-current="page">&lt;b&gt;党课&lt;/b&gt;</li>'
        "</ol></nav>"
    )


@pytest.mark.parametrize(
    "source",
    [
        '{% crumb "x" %}',
        '{% subnav_item "a" "b" "study:activity_list" %}',
        "{% breadcrumb extra %}{% endbreadcrumb %}",
        '{% subnav "x" %}{% subnav_item "a" "b" %}{% endsubnav %}',
    ],
)
def test_misused_tags_fail_loudly(source):
    with pytest.raises(TemplateSyntaxError):
        render(source)
