from django.urls import path

from . import guide_views, maintenance_views, notification_views, search_views, views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("search/", search_views.search, name="search"),
    path("guide/", guide_views.guide, name="guide"),
    path("audit/", views.audit_list, name="audit_list"),
    path("audit/<int:pk>/", views.audit_detail, name="audit_detail"),
    path("jobs/", views.job_list, name="job_list"),
    path("jobs/<uuid:pk>/", views.job_detail, name="job_detail"),
    path("jobs/<uuid:pk>/download/", views.job_download, name="job_download"),
    path("notifications/", notification_views.notification_list, name="notification_list"),
    path("notifications/count/", notification_views.notification_count, name="notification_count"),
    path("notifications/<int:pk>/read/", notification_views.notification_read, name="notification_read"),
    path("notifications/read-all/", notification_views.notification_read_all, name="notification_read_all"),
    path(
        "notifications/preferences/",
        notification_views.notification_preferences,
        name="notification_preferences",
    ),
    path("maintenance/", maintenance_views.maintenance, name="maintenance"),
    path("maintenance/<str:name>/start/", maintenance_views.maintenance_start, name="maintenance_start"),
]
