from django.urls import path

from . import views

app_name = "development"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.create, name="create"),
    path("export/", views.export, name="export"),
    path("overview/", views.overview_page, name="overview"),
    path("plans/", views.plans, name="plans"),
    path("rules/", views.rules, name="rules"),
    path("rules/<int:pk>/", views.rules_detail, name="rules_detail"),
    path("rules/<int:pk>/reset/", views.rules_reset, name="rules_reset"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/confirm/", views.confirm, name="confirm"),
    path("<int:pk>/print/", views.print_dossier, name="print"),
    path("<int:pk>/people/", views.people, name="people"),
    path("<int:pk>/close/", views.close, name="close"),
    path("<int:pk>/documents/new/", views.document_add, name="document_add"),
    path("<int:pk>/documents/<int:doc_pk>/", views.document_file, name="document_file"),
    path("<int:pk>/documents/<int:doc_pk>/remove/", views.document_remove, name="document_remove"),
]
