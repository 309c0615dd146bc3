from django.urls import path

from . import views

app_name = "organizations"
urlpatterns: list = []
