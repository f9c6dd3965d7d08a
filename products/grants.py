"""What a developer's application holds through its subscriptions, for the built-in provider.

identity/grants.py asks this before it puts an API's audience or scope in a token for a
client that a developer registered (applications/). Clients an administrator set up (the
portal's sign-in client, the console's and the demo's clients) are first-party and are not
limited here.
"""

from __future__ import annotations

from typing import Any

from products.models import Subscription


def application_of(client: Any) -> Any:
    """The developer application behind a provider client, or None for a first-party one."""
    from applications.models import Application

    pk = getattr(client, "pk", None)
    if pk is None:
        return None
    return Application.objects.filter(provider_client_id=pk).first()


def application_may_use(application: Any, api: Any) -> bool:
    """An active subscription of this application to a published product offering `api`."""
    return Subscription.objects.filter(
        application=application,
        state=Subscription.ACTIVE,
        product__published=True,
        product__apis=api,
    ).exists()
