"""/accounts/: our strict OIDC login/callback and pages, then allauth's own URLs.

The OIDC login and callback paths shadow allauth's `openid_connect` ones (same paths, same
names), so allauth's templates and redirects keep working with the strict adapter.
"""

from __future__ import annotations

from django.urls import include, path

from accounts import views

urlpatterns = [
    path("profile/", views.profile, name="account_profile"),
    path("setup/", views.setup, name="accounts_setup"),
    path("logout/", views.logout, name="account_logout"),
    path("oidc/<str:provider_id>/login/", views.oidc_login, name="openid_connect_login"),
    path(
        "oidc/<str:provider_id>/login/callback/",
        views.oidc_callback,
        name="openid_connect_callback",
    ),
    path("", include("allauth.urls")),
]
