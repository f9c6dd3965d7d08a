"""Factories for products, groups and subscriptions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from apis.models import Api
from products.models import Group, Product
from tests.conftest import DEMO_SPECS, ImportSpec
from tests.identity.test_interop_oidc_provider import oidc_provider, op_groups  # noqa: F401

MakeProduct = Callable[..., Product]


@pytest.fixture(autouse=True)
def _mail(settings: Any) -> None:
    """A mailer, as EMAIL_HOST (production) or DEBUG (the console) would configure."""
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


@pytest.fixture
def echo(import_spec: ImportSpec) -> Api:
    return import_spec(DEMO_SPECS / "echo.yaml", "echo")


@pytest.fixture
def petstore(import_spec: ImportSpec) -> Api:
    return import_spec(DEMO_SPECS / "petstore.yaml", "petstore")


@pytest.fixture
def make_user(db: None) -> Callable[..., Any]:
    def make(username: str, **fields: Any) -> Any:
        fields.setdefault("email", f"{username}@example.com")
        return get_user_model().objects.create_user(username, password=f"pw-{username}-1", **fields)

    return make


@pytest.fixture
def ada(make_user: Callable[..., Any]) -> Any:
    return make_user("ada")


@pytest.fixture
def bob(make_user: Callable[..., Any]) -> Any:
    return make_user("bob")


@pytest.fixture
def ada_client(client: Client, ada: Any) -> Client:
    client.force_login(ada)
    return client


@pytest.fixture
def make_group(db: None) -> Callable[..., Group]:
    def make(slug: str, *members: Any, claims: list[str] | None = None) -> Group:
        group = Group.objects.create(slug=slug, name=slug.title(), claim_values=claims or [])
        group.members.add(*members)
        return group

    return make


@pytest.fixture
def make_product(db: None) -> MakeProduct:
    def make(
        slug: str, *apis: Api, groups: tuple[str, ...] = ("developers",), **fields: Any
    ) -> Product:
        fields.setdefault("name", slug.title())
        fields.setdefault("published", True)
        product = Product.objects.create(slug=slug, **fields)
        product.apis.set(apis)
        product.groups.set(Group.objects.filter(slug__in=groups))
        return product

    return make
