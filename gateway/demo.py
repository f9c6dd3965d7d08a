"""Demo gateway set-up for `manage.py seed_demo`: idempotent, prints what a user needs.

The demo APIs only: echo answers through the built-in echo backend, petstore from its spec
(mock). An API a publisher imported gets no route here: `make run` runs this on every start,
and a silent mock route would answer for the real API. Each route checks tokens from the
built-in IdP: audience `api://<slug>`, scope `<slug>.read` for reads and `<slug>.write` for
writes.
"""

from __future__ import annotations

from typing import TextIO

from django.conf import settings
from django.db import transaction

READ_METHODS = "GET HEAD OPTIONS"
WRITE_METHODS = "POST PUT PATCH DELETE"
# The APIs seed_demo imports, and what answers for each.
DEMO_BACKENDS = {"echo": "echo", "petstore": "mock"}


def _issuer() -> str:
    # Empty IDENTITY_ISSUER means "derive from the request host"; the demo runs on 8000.
    return (str(getattr(settings, "IDENTITY_ISSUER", "")) or "http://127.0.0.1:8000/idp").rstrip(
        "/"
    )


def _seeded_for_another_issuer(issuers: object, openid_config: object, issuer: str) -> bool:
    """Whether a policy holds what this seed writes, but for a built-in provider at another
    address; a policy an administrator pointed elsewhere (Entra ID, Keycloak) is not."""
    if not (isinstance(issuers, list) and len(issuers) == 1 and isinstance(issuers[0], str)):
        return False
    old = issuers[0]
    return (
        old != issuer
        and old.endswith("/idp")
        and openid_config == [f"{old}/.well-known/openid-configuration"]
    )


def configure(api_slug: str, backend: str) -> bool:
    """Create or update the demo route and policy of one API; True when something changed."""
    from apis.models import Api
    from gateway.models import JwtPolicy, RequiredClaim, Route

    api = Api.objects.filter(slug=api_slug).first()
    if api is None:
        return False
    issuer = _issuer()
    changed = False
    with transaction.atomic():
        route, created = Route.objects.get_or_create(
            api=api, defaults={"suffix": api_slug, "backend": backend}
        )
        changed |= created
        policy, created = JwtPolicy.objects.get_or_create(
            route=route,
            defaults={
                "openid_config": [f"{issuer}/.well-known/openid-configuration"],
                "audiences": [f"api://{api_slug}"],
                "issuers": [issuer],
            },
        )
        changed |= created
        if not created and _seeded_for_another_issuer(policy.issuers, policy.openid_config, issuer):
            # `make run` again on another port (or with another IDENTITY_ISSUER): tokens now
            # come from this issuer, and the old one's keys are out of reach.
            policy.issuers = [issuer]
            policy.openid_config = [f"{issuer}/.well-known/openid-configuration"]
            policy.save(update_fields=["issuers", "openid_config", "updated"])
            changed = True
        if not policy.claims.exists():
            for position, (methods, scope) in enumerate(
                ((READ_METHODS, f"{api_slug}.read"), (WRITE_METHODS, f"{api_slug}.write"))
            ):
                RequiredClaim.objects.create(
                    policy=policy, name="scope", values=[scope], match="any", separator=" ",
                    methods=methods, position=position,
                )  # fmt: skip
            changed = True
    return changed


def seed(stdout: TextIO) -> None:
    from apis.models import Api

    base = _issuer().rsplit("/idp", 1)[0]
    for api in Api.objects.filter(slug__in=DEMO_BACKENDS).order_by("slug"):
        backend = DEMO_BACKENDS[api.slug]
        changed = configure(api.slug, backend)
        stdout.write(
            f"Gateway: {base}/gateway/{api.slug}/ → {backend} backend, validate-jwt "
            f"(aud api://{api.slug}, scopes {api.slug}.read / {api.slug}.write)"
            + ("" if changed else " [unchanged]")
            + "\n"
        )
