"""`{% inline_static %}` (portal/templatetags/inline_static.py): a static file's text inline."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.template import Context, Template, TemplateSyntaxError

from portal.templatetags import inline_static


def _render(source: str) -> str:
    return Template("{% load inline_static %}" + source).render(Context())


def test_inlines_static_files_in_order() -> None:
    html = _render('<style>{% inline_static "css/portal.css" "css/console.css" %}</style>')
    portal = (Path(__file__).parents[2] / "static/css/portal.css").read_text()
    assert html.startswith("<style>" + portal) and html.endswith("</style>")
    assert "&lt;" not in html and "&gt;" not in html  # not escaped: selectors keep their `>`


def test_refuses_a_missing_file_or_one_that_would_close_its_element(
    tmp_path: Path, settings, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TemplateSyntaxError, match="no static file"):
        _render('{% inline_static "js/nope.js" %}')
    (tmp_path / "bad.js").write_text('document.write("</script><b>")')
    found = str(tmp_path / "bad.js")
    monkeypatch.setattr(inline_static.finders, "find", lambda path: found)
    inline_static._text.cache_clear()
    with pytest.raises(TemplateSyntaxError, match="end tag"):
        _render('{% inline_static "js/bad.js" %}')
    inline_static._text.cache_clear()
