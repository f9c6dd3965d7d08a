"""`{% console_panel as console %}`: the console panel's context, for an include of
`console/panel.html` that was not handed one (the operation view hands it over)."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.messages import get_messages

from console import panel

register = template.Library()


@register.simple_tag(takes_context=True)
def console_panel(context: template.Context) -> dict[str, Any]:
    # Reads only: a template never changes the session. The operation view hands over the
    # restored form (`panel.for_request`); this is the fallback for pages that do not.
    request = context["request"]
    return panel.build(
        api=context["api"],
        version=context["version"],
        operation=context["operation"],
        user=request.user,
        session=request.session,
    )


@register.simple_tag(takes_context=True)
def console_auth_messages(context: template.Context) -> list[Any]:
    """What the Authorization block says: all the messages of an htmx answer (the block is
    the answer), and on a whole page those tagged for it (panel.AUTH_MESSAGE_TAG)."""
    request = context.get("request")
    if request is None:
        return []
    said = list(get_messages(request))
    if getattr(request, "htmx", False):
        return said
    return [m for m in said if panel.AUTH_MESSAGE_TAG in m.tags.split()]


@register.simple_tag
def console_servers(api: Any) -> list[Any]:
    """The authorization servers an API's reference shows (`show_in_reference`)."""
    return panel.reference_servers(api)


@register.filter
def seconds(value: int | None) -> str:
    """A countdown as text: `4 min 05 s`, `expired`."""
    if value is None:
        return "no expiry given"
    if value <= 0:
        return "expired"
    minutes, secs = divmod(int(value), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"
