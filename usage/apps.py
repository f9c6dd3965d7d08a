from __future__ import annotations

from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import pre_delete


class UsageConfig(AppConfig):
    name = "usage"
    verbose_name = "Usage analytics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from usage import checks  # noqa: F401  (registers the system checks)
        from usage.anonymise import on_user_delete

        pre_delete.connect(
            on_user_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="usage.forget_user"
        )
