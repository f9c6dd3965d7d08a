from __future__ import annotations

from django.apps import AppConfig


class GatewayConfig(AppConfig):
    name = "gateway"
    verbose_name = "Gateway"

    def ready(self) -> None:
        from gateway import (
            checks,  # noqa: F401  (registers the system checks)
            signals,
        )

        signals.connect()  # the configuration version the gateways read (with Redis)
