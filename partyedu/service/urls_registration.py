"""Pages of the service app's registration area (included by ``urls.py``): 双报到 (agreements,
registrations, service records, coverage) and volunteer service; the member's own pages under
``my/``."""

from django.urls import URLPattern, path

from . import views_registration as views

urlpatterns: list[URLPattern] = [
    # A member's own pages (phone).
    path("my/", views.my_service, name="my_service"),
    path("my/registration/", views.my_registration, name="my_registration"),
    path("my/records/new/", views.my_record_create, name="my_record_create"),
    path("my/records/<int:pk>/delete/", views.my_record_delete, name="my_record_delete"),
    path("my/volunteer/", views.my_volunteer, name="my_volunteer"),
    path("volunteer/<int:pk>/signup/", views.volunteer_signup, name="volunteer_signup"),
    path("volunteer/<int:pk>/withdraw/", views.volunteer_withdraw, name="volunteer_withdraw"),
    # The unit, the community side and the organisation department (desktop).
    path("agreements/", views.agreement_list, name="agreement_list"),
    path("agreements/new/", views.agreement_create, name="agreement_create"),
    path("agreements/<int:pk>/", views.agreement_detail, name="agreement_detail"),
    path("agreements/<int:pk>/edit/", views.agreement_edit, name="agreement_edit"),
    path("agreements/<int:pk>/items/new/", views.agreement_item_create, name="agreement_item_create"),
    path("agreements/items/<int:pk>/edit/", views.agreement_item_edit, name="agreement_item_edit"),
    path("registrations/", views.registration_list, name="registration_list"),
    path("registrations/new/", views.registration_create, name="registration_create"),
    path("registrations/<int:pk>/end/", views.registration_end, name="registration_end"),
    path("records/", views.record_list, name="record_list"),
    path("records/<int:pk>/confirm/", views.record_confirm, name="record_confirm"),
    path("records/<int:pk>/reject/", views.record_reject, name="record_reject"),
    path("coverage/", views.coverage, name="coverage"),
    path("coverage/members/", views.coverage_members, name="coverage_members"),
    path("coverage/export/", views.coverage_export, name="coverage_export"),
    path("volunteer/", views.volunteer_list, name="volunteer_list"),
    path("volunteer/new/", views.volunteer_create, name="volunteer_create"),
    path("volunteer/<int:pk>/", views.volunteer_detail, name="volunteer_detail"),
]
