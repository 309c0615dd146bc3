"""Pages of the service app's care area (included by ``urls.py``): 谈心谈话, 关怀帮扶, 政治生日."""

from django.urls import URLPattern, path

from . import views_care as views

urlpatterns: list[URLPattern] = [
    path("talks/", views.talk_list, name="talk_list"),
    path("talks/new/", views.talk_create, name="talk_create"),
    path("talks/coverage/", views.talk_coverage, name="talk_coverage"),
    path("talks/rule/", views.talk_rule, name="talk_rule"),
    path("talks/export/", views.talk_export, name="talk_export"),
    path("care/", views.care_case_list, name="care_case_list"),
    path("care/new/", views.care_case_create, name="care_case_create"),
    path("care/<int:pk>/", views.care_case_detail, name="care_case_detail"),
    path("care/<int:pk>/end/", views.care_case_end, name="care_case_end"),
    path("care/visits/", views.care_visit_list, name="care_visit_list"),
    path("care/visits/new/", views.care_visit_create, name="care_visit_create"),
    path("care/visits/<int:pk>/approve/", views.care_visit_approve, name="care_visit_approve"),
    path("care/visits/<int:pk>/reject/", views.care_visit_reject, name="care_visit_reject"),
    path("care/totals/", views.care_totals, name="care_totals"),
    path("care/export/", views.care_export, name="care_export"),
    path("care/policy/", views.care_policy, name="care_policy"),
    path("care/pairs/", views.care_pair_list, name="care_pair_list"),
    path("care/pairs/new/", views.care_pair_create, name="care_pair_create"),
    path("birthdays/", views.birthday_list, name="birthday_list"),
    path("birthdays/theme-day/", views.birthday_theme_day, name="birthday_theme_day"),
    path("birthdays/greeting/", views.birthday_greeting, name="birthday_greeting"),
]
