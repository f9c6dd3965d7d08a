from __future__ import annotations

from django.apps import AppConfig


class ApplicationsConfig(AppConfig):
    name = "applications"
    verbose_name = "Developer applications"
    default_auto_field = "django.db.models.BigAutoField"
