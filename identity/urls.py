"""/idp/: the built-in OpenID provider.

`urlpatterns` are ours (namespace `identity`); `oauth2_urlpatterns` are DOT's views,
mounted under the `oauth2_provider` namespace its code reverses.
"""

from __future__ import annotations

from django.urls import path, re_path

from identity import endpoints, views

app_name = "identity"

urlpatterns = [
    path("", views.home, name="home"),
    re_path(r"^\.well-known/openid-configuration/?$", views.discovery, name="discovery"),
    path("jwks/", views.jwks, name="jwks"),
    path("login/", views.login, name="login"),
    path("authorize/", views.Authorize.as_view(), name="authorize"),
]

oauth2_urlpatterns = [
    path("authorize/", views.Authorize.as_view(), name="authorize"),
    path("token/", endpoints.Token.as_view(), name="token"),
    path("revoke/", endpoints.Revoke.as_view(), name="revoke-token"),
    path("introspect/", endpoints.Introspect.as_view(), name="introspect"),
    path("userinfo/", endpoints.UserInfo.as_view(), name="user-info"),
    path("logout/", views.EndSession.as_view(), name="rp-initiated-logout"),
    # RFC 8414 metadata is the discovery document: DOT's own offered the device-code
    # grant the token endpoint refuses and named no jwks_uri.
    path(".well-known/oauth-authorization-server", views.discovery, name="oauth-server-metadata"),
    path("jwks/", views.jwks, name="jwks-info"),
    re_path(
        r"^\.well-known/openid-configuration/?$",
        views.discovery,
        name="oidc-connect-discovery-info",
    ),
]
