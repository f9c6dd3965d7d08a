from __future__ import annotations

from django.apps import AppConfig


class ProductsConfig(AppConfig):
    name = "products"
    verbose_name = "Products and subscriptions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from products import checks, signals  # noqa: F401  (registers checks and receivers)
