"""`{% console_panel as console %}`: the console panel's context, for the operation page's
`{% include "console/panel.html" %}` (which has `api`, `version` and `operation`)."""

from __future__ import annotations

from typing import Any

from django import template

from console import panel

register = template.Library()


@register.simple_tag(takes_context=True)
def console_panel(context: template.Context) -> dict[str, Any]:
    request = context["request"]
    # A form restored after the authorization redirect or loaded from history: used once.
    state = request.session.pop(panel.RESTORE_KEY, None) if request.user.is_authenticated else None
    if not panel.state_is_for(state, context["api"], context["version"], context["operation"]):
        state = None  # saved on another operation's page: not this form's values
    return panel.build(
        api=context["api"],
        version=context["version"],
        operation=context["operation"],
        user=request.user,
        session=request.session,
        state=state if isinstance(state, dict) else None,
    )


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
