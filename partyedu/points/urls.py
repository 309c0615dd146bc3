from django.urls import path

from . import views, views_publication

app_name = "points"

urlpatterns = [
    path("", views.index, name="index"),
    path("my/", views.my_points, name="my"),
    path("members/<int:pk>/", views.member_detail, name="member_detail"),
    path("members/<int:pk>/manual/", views.manual_record, name="manual"),
    path("candidates/", views.candidates, name="candidates"),
    path("schemes/", views.scheme_list, name="scheme_list"),
    path("schemes/new/", views.scheme_create, name="scheme_create"),
    path("schemes/<int:pk>/", views.scheme_edit, name="scheme_edit"),
    path("members/<int:pk>/veto/", views_publication.veto_create, name="veto_create"),
    path("vetoes/<int:pk>/lift/", views_publication.veto_lift, name="veto_lift"),
    path("publications/", views_publication.publication_list, name="publication_list"),
    path("publications/new/", views_publication.publication_create, name="publication_create"),
    path("publications/<int:pk>/", views_publication.publication_detail, name="publication_detail"),
    path(
        "publications/<int:pk>/withdraw/", views_publication.publication_withdraw, name="publication_withdraw"
    ),
    path("publications/<int:pk>/objection/", views_publication.objection_create, name="objection_create"),
    path("objections/", views_publication.objection_list, name="objection_list"),
    path("objections/<int:pk>/", views_publication.objection_detail, name="objection_detail"),
    path("ranking/", views_publication.ranking, name="ranking"),
]
