from __future__ import annotations

from django.urls import path

from console import views

app_name = "console"

urlpatterns = [
    path("send/", views.send, name="send"),
    path("token/", views.token, name="token"),
    path("credential/", views.credential, name="credential"),
    path("token/<str:token_id>/forget/", views.forget, name="forget"),
    path("token/<str:token_id>/refresh/", views.refresh, name="refresh"),
    path("callback/", views.callback, name="callback"),
    path("callback/implicit/", views.implicit, name="implicit"),
    path("history/", views.history, name="history"),
    path("history/<uuid:call_id>/", views.load, name="load"),
    path("history/<uuid:call_id>/snippets/", views.reveal, name="reveal"),
]
