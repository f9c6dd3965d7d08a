from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "identity"
    verbose_name = "Built-in OpenID provider"

    def ready(self) -> None:
        from django.db.models.signals import pre_delete
        from oauth2_provider.models import get_access_token_model

        from identity import (
            checks,  # noqa: F401  (registers the system checks)
            revocation,
        )

        def _revoked(sender: Any, instance: Any, **kwargs: Any) -> None:
            revocation.record(instance)

        pre_delete.connect(
            _revoked,
            sender=get_access_token_model(),
            weak=False,  # a local function: nothing else keeps it alive
            dispatch_uid="identity-revoked-token",
        )
