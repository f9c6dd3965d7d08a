from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_builtin_groups(sender: Any = None, **kwargs: Any) -> None:
    """guests, developers and administrators exist after every migrate (and test flush), as
    Django's content types and permissions do."""
    from products.models import BUILTIN_GROUPS, Group

    using = kwargs.get("using", "default")
    for slug, name in BUILTIN_GROUPS.items():
        Group.objects.using(using).update_or_create(
            slug=slug, defaults={"name": name, "builtin": True}
        )


class ProductsConfig(AppConfig):
    name = "products"
    verbose_name = "Products and subscriptions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from products import checks, signals  # noqa: F401  (registers checks and receivers)

        post_migrate.connect(ensure_builtin_groups, sender=self)
