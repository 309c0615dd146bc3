from django.urls import path

from . import views

app_name = "organizations"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("new/", views.create, name="create"),
    path("picker/", views.picker, name="picker"),
    path("export/", views.export, name="export"),
    path("import/", views.import_, name="import"),
    path("import/template/", views.import_template, name="import_template"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/children/", views.children, name="children"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/move/", views.move, name="move"),
    path("<int:pk>/deactivate/", views.deactivate, name="deactivate"),
]
