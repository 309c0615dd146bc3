from django.urls import path, re_path

from . import views

app_name = "competitions"
urlpatterns = [
    # The menu links here: organisers land on their competitions, reviewers on their
    # assignments, members on their entries.
    path("", views.index, name="index"),
    path("list/", views.competition_list, name="competition_list"),
    path("new/", views.competition_create, name="competition_create"),
    path("<int:pk>/", views.competition_detail, name="competition_detail"),
    path("<int:pk>/rounds/new/", views.round_create, name="round_create"),
    path("<int:pk>/entries/new/", views.entry_create, name="entry_create"),
    path("<int:pk>/awards/", views.award_list, name="award_list"),
    path("<int:pk>/awards/grant/", views.award_grant, name="award_grant"),
    path("<int:pk>/awards/plan/", views.award_plan, name="award_plan"),
    path("<int:pk>/conflict/", views.competition_conflict, name="competition_conflict"),
    path("<int:pk>/awards/certificates/", views.certificate_batch, name="certificate_batch"),
    path("rounds/<int:pk>/", views.round_detail, name="round_detail"),
    path("rounds/<int:pk>/edit/", views.round_edit, name="round_edit"),
    path("rounds/<int:pk>/panel/", views.round_panel, name="round_panel"),
    path("rounds/<int:pk>/assign/", views.round_assign, name="round_assign"),
    path("rounds/<int:pk>/reassign/", views.round_reassign, name="round_reassign"),
    path("rounds/<int:pk>/finish/", views.round_finish, name="round_finish"),
    path("rounds/<int:pk>/export/", views.round_export, name="round_export"),
    path("entries/<int:pk>/endorse/", views.entry_endorse, name="entry_endorse"),
    path("entries/<int:pk>/withdraw/", views.entry_withdraw, name="entry_withdraw"),
    re_path(r"^entries/(?P<pk>\d+)/(?P<kind>video|materials)/$", views.entry_file, name="entry_file"),
    path("endorsements/", views.endorsement_list, name="endorsement_list"),
    path("reviews/", views.my_reviews, name="my_reviews"),
    path("reviews/<int:pk>/", views.review_detail, name="review_detail"),
    path("mine/", views.my_entries, name="my_entries"),
    path("nominate/<int:pk>/", views.nominate, name="nominate"),
    path("awards/<int:pk>/certificate/", views.certificate_download, name="certificate_download"),
    path("awards/<int:pk>/revoke/", views.certificate_revoke, name="certificate_revoke"),
    # 发布到党课库: a 优秀党课's video becomes a lecture library item (lectures app).
    path("awards/<int:pk>/publish/", views.award_publish, name="award_publish"),
]

# Mounted at /verify/ (namespace "verify"): public, no sign-in.
verify_urlpatterns = [
    path("", views.verify, name="form"),
    path("<str:code>/", views.verify_certificate, name="certificate"),
]
