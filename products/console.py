"""What the try-it console needs from subscriptions: which of the developer's keys may call an
API, the key itself for a call (server-side only), and which product to subscribe to.

The key is read here and added to the outgoing call by the console's sender; it never goes
into a page, the call history or a snippet (those show `$SUBSCRIPTION_KEY`, console/samples.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.db.models import Q

from apis.models import Api
from gateway.querystring import cut_param
from products import keys
from products.models import ApiKeyNames, Product, Subscription
from products.visibility import visible_products

KEY_HEADER = "Ocp-Apim-Subscription-Key"
# The console's key picker (products/_console_keys.html): where its "Subscribe to ..." hint
# brings the developer back, and where the picker says they are subscribed. At #console the
# page's messages were far above, out of view.
PICKER_ANCHOR = "console-subscription"
# The tag of that message: the picker shows it, the page's message list leaves it out.
PICKER_MESSAGE_TAG = "console-picker"


@dataclass(frozen=True)
class KeyOption:
    id: str  # the subscription's uuid
    label: str
    masked: str
    state: str
    active: bool


def needs_key(api: Api) -> bool:
    """The gateway asks for a key on this API (gateway/subscriptions.py uses the same rule):
    a product offers it (published or not: an API only unpublished products offer is closed,
    not open), and no published open one does (as in APIM, a call without a key goes through
    the open product)."""
    offering = Product.objects.filter(apis=api)
    return (
        offering.exists()
        and not offering.filter(published=True, subscription_required=False).exists()
    )


def _usable(user: Any, api: Api) -> Any:
    """Active subscriptions for this API, then suspended ones: a developer may still pick a
    suspended one and see the gateway's reason for refusing it."""
    if user is None or not user.is_authenticated:
        return Subscription.objects.none()
    return (
        Subscription.objects.filter(
            owner=user,
            state__in=(Subscription.ACTIVE, Subscription.SUSPENDED),
            product__apis=api,
            product__published=True,
        )
        .select_related("product", "application")
        .order_by("state", "product__name", "created")  # "active" sorts before "suspended"
    )


def key_options(user: Any, api: Api) -> list[KeyOption]:
    options = []
    for sub in _usable(user, api):
        try:
            masked = keys.mask(keys.decrypt(sub.primary_encrypted))
        except keys.KeyUnreadable:
            continue
        # An application's key says whose it is: the developer's own and their application's
        # subscriptions to one product otherwise read the same.
        parts = [sub.product.name, sub.name]
        if sub.application is not None:
            parts.append(f"for {sub.application.name}")
        label = " · ".join(part for part in parts if part)
        active = sub.state == Subscription.ACTIVE
        options.append(KeyOption(str(sub.uuid), label, masked, sub.get_state_display(), active))
    return options


def subscribe_hint(user: Any, api: Api) -> list[Product]:
    """Products offering this API that the user may see, for "subscribe to ..." links."""
    # Published only: drafts' readers see unpublished products, where subscribing is refused.
    offering = visible_products(user).filter(apis=api, published=True, subscription_required=True)
    return list(offering)


def key_for_call(user: Any, api: Api, chosen: str) -> str | None:
    """The primary key of the chosen subscription (the first active one when none is
    chosen); None when the user holds no subscription for this API."""
    usable = _usable(user, api)
    sub = None
    if chosen:
        try:
            sub = usable.filter(uuid=chosen).first()
        except Exception:  # not a UUID: treated as no choice
            sub = None
    sub = sub or usable.first()
    if sub is None:
        return None
    try:
        return keys.decrypt(sub.primary_encrypted)
    except keys.KeyUnreadable:
        return None


def subscription_headers(user: Any, api: Api, chosen: str) -> dict[str, str]:
    """The key header for a console call, from the developer's `chosen` subscription; empty
    when the API needs no key or the user has none (the gateway's 401 then says why)."""
    if not needs_key(api):
        return {}
    key = key_for_call(user, api, chosen)
    return {key_header(api): key} if key else {}


def key_header(api: Api) -> str:
    """The header the gateway reads this API's key from (APIM's unless renamed)."""
    return key_names(api)[0]


def key_names(api: Api) -> tuple[str, str]:
    """The header and the query parameter the gateway reads this API's key from."""
    names = ApiKeyNames.objects.filter(api=api).values_list("header", "query").first()
    return names or (KEY_HEADER, "subscription-key")


def typed_keys(api: Api, headers: dict[str, str], url: str) -> list[tuple[str, str]]:
    """(header or parameter name, value) of each key a call to `api` through the gateway
    carries in the gateway's key header or query parameter, under every spelling the gateway
    reads (`subscription%2Dkey`, `subscription-key[]`, `subscription-key%00`); empty when
    the API needs no key."""
    if not needs_key(api):
        return []
    header, param = key_names(api)
    given = [(name, value) for name, value in headers.items() if name.lower() == header.lower()]
    # By the gateway's own rule (gateway/querystring.cut_param): parse_qsl's missed the
    # NUL-ended name.
    values, _ = cut_param(urlsplit(url).query.encode("latin-1", "replace"), param)
    return given + [(param, value) for value in values]


def stranger_key(user: Any, api: Api, headers: dict[str, str], url: str) -> str | None:
    """The header or query parameter of a call to `api` through the gateway that carries a
    subscription key which is none of `user`'s (active or suspended) subscriptions', or None.

    A key the developer typed (a spec exported from APIM declares the key's header or query
    parameter) goes to the gateway, which counts unknown keys per address and then refuses
    that address; every console call comes from the portal's, so one developer's guesses
    would refuse every developer's calls."""
    own = Subscription.objects.filter(
        owner=user, state__in=(Subscription.ACTIVE, Subscription.SUSPENDED)
    )
    for name, value in typed_keys(api, headers, url):
        digest = keys.key_hash(value.strip())
        if not own.filter(Q(primary_hash=digest) | Q(secondary_hash=digest)).exists():
            return name
    return None
