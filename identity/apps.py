from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "identity"
    verbose_name = "Built-in OpenID provider"

    def ready(self) -> None:
        from django.apps import apps
        from django.conf import settings
        from django.db.models.signals import post_save, pre_delete
        from oauth2_provider.models import get_access_token_model

        from identity import (
            checks,  # noqa: F401  (registers the system checks)
            revocation,
        )

        def _revoked(sender: Any, instance: Any, **kwargs: Any) -> None:
            revocation.record(instance)

        def _deactivated(sender: Any, instance: Any, update_fields: Any = None, **kw: Any) -> None:
            # A deactivated user's tokens stop now, not when they expire (and their refresh
            # tokens, which DOT would go on honouring, with them).
            if instance.is_active or kw.get("created"):
                return
            if update_fields is not None and "is_active" not in update_fields:
                return
            revocation.revoke_user(instance)

        # The admin heads the tokens, grants and ID tokens the provider issued with the
        # library's name ('Django OAuth Toolkit') otherwise.
        apps.get_app_config(
            "oauth2_provider"
        ).verbose_name = "Built-in OpenID provider: issued tokens"

        post_save.connect(
            _deactivated,
            sender=settings.AUTH_USER_MODEL,
            weak=False,
            dispatch_uid="identity-deactivated-user",
        )
        pre_delete.connect(
            _revoked,
            sender=get_access_token_model(),
            weak=False,  # a local function: nothing else keeps it alive
            dispatch_uid="identity-revoked-token",
        )
