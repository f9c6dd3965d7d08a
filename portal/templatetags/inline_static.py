"""`{% inline_static "js/theme.js" %}`: a small static file's text, for a `<script>` or
`<style>` element carrying the page's CSP nonce.

A file the page needs before it can parse on or paint (the theme script, the reference page's
styles) then costs no request of its own: with an empty cache each such request was a round
trip to the app server on the critical path, and on a busy server each waited its turn.
Read once per process from the source folders (staticfiles finders), which a read-only
deployment also has.
"""

from __future__ import annotations

from functools import cache

from django import template
from django.contrib.staticfiles import finders
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@cache
def _text(path: str) -> str:
    found = finders.find(path)
    if not isinstance(found, str):
        raise template.TemplateSyntaxError(f"inline_static: no static file {path!r}")
    with open(found, encoding="utf-8") as f:
        text = f.read()
    # Our own files, but an end tag inside would close the element early.
    if "</script" in text.lower() or "</style" in text.lower():
        raise template.TemplateSyntaxError(f"inline_static: {path!r} holds an end tag")
    return text


@register.simple_tag
def inline_static(*paths: str) -> SafeString:
    return mark_safe("\n".join(_text(p) for p in paths))  # noqa: S308 (our static files)
