from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.password_change, name="password_change"),
    path("otp/", views.otp_settings, name="otp_settings"),
    path("otp/verify/", views.otp_verify, name="otp_verify"),
    path("otp/enrol/", views.otp_enrol, name="otp_enrol"),
    path("otp/recovery-codes/", views.otp_recovery_codes, name="otp_recovery_codes"),
    path("otp/disable/", views.otp_disable, name="otp_disable"),
    path("tokens/", views.token_list, name="token_list"),
    path("tokens/revoke-all/", views.token_revoke_all, name="token_revoke_all"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/", views.user_detail, name="user_detail"),
    path("users/<int:pk>/active/", views.user_set_active, name="user_set_active"),
    path("users/<int:pk>/otp/reset/", views.otp_reset, name="otp_reset"),
    path("users/<int:pk>/roles/", views.role_assign, name="role_assign"),
    path("users/<int:pk>/roles/<int:assignment_pk>/revoke/", views.role_revoke, name="role_revoke"),
    path("users/<int:pk>/pii/", views.pii_grant, name="pii_grant"),
    path("users/<int:pk>/pii/<int:grant_pk>/revoke/", views.pii_revoke, name="pii_revoke"),
]
