from __future__ import annotations

from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "identity"
    verbose_name = "Built-in OpenID provider"

    def ready(self) -> None:
        from identity import checks  # noqa: F401  (registers the system checks)
