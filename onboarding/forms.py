"""Input parsers for /api/v1/ (JSON objects, read with Django forms like the pages' input)."""

from __future__ import annotations

from typing import Any

from django import forms

from applications.models import Application
from applications.redirects import MAX_URIS, RedirectUriError, check_redirect_uri
from portal.lib.names import validate_name
from usage import windows


class _JsonText:
    """A JSON string (or null/absent): a list, object, number or boolean is refused, where
    Django's text fields would keep its Python text ("['a']", "True")."""

    def to_python(self, value: Any) -> Any:
        if value is not None and not isinstance(value, str):
            raise forms.ValidationError("A string.", code="type")
        return super().to_python(value)  # type: ignore[misc]


class JsonCharField(_JsonText, forms.CharField):
    pass


class JsonSlugField(_JsonText, forms.SlugField):
    pass


class JsonUUIDField(_JsonText, forms.UUIDField):
    pass


class JsonBooleanField(forms.BooleanField):
    """JSON true or false (or null/absent, false): Django's HTML reading takes any text but
    "false" and "0" as true, so "no" would have accepted a product's terms."""

    widget = forms.HiddenInput  # hands the JSON value over as it is (a checkbox makes a bool)

    def to_python(self, value: Any) -> bool:
        if value is None:
            return False
        if not isinstance(value, bool):
            raise forms.ValidationError("true or false.", code="type")
        return value


class ApplicationInput(forms.Form):
    # validate_name: a line break or direction control is a wrong field (400 naming it), as
    # on the pages; the flows' own check answered 409 for a subscription, unnamed.
    name = JsonCharField(max_length=100, strip=True, validators=[validate_name])
    description = JsonCharField(required=False, max_length=2000, strip=True)
    kind = forms.ChoiceField(choices=Application.KINDS)
    redirect_uris = forms.Field(required=False)
    keep_for_console = JsonBooleanField(required=False)
    server = JsonSlugField(required=False, max_length=100)

    def clean_redirect_uris(self) -> list[str]:
        raw = self.cleaned_data.get("redirect_uris") or []
        if not isinstance(raw, list) or not all(isinstance(u, str) for u in raw):
            raise forms.ValidationError("A list of URI strings.")
        uris = list(dict.fromkeys(raw))
        if len(uris) > MAX_URIS:
            raise forms.ValidationError(f"At most {MAX_URIS} redirect URIs.")
        try:
            return [check_redirect_uri(uri) for uri in uris]
        except RedirectUriError as exc:
            raise forms.ValidationError(str(exc)) from exc


class ApplicationChange(forms.Form):
    """PATCH: what is not given stays as it is."""

    name = JsonCharField(required=False, max_length=100, strip=True, validators=[validate_name])
    description = JsonCharField(required=False, max_length=2000, strip=True)
    redirect_uris = forms.Field(required=False)

    clean_redirect_uris = ApplicationInput.clean_redirect_uris

    def clean_name(self) -> str:
        # Absent keeps the name; given, it is required as on the page (null, "" or spaces
        # would leave an application nobody can tell apart in a list).
        name: str = self.cleaned_data.get("name") or ""
        if "name" in self.data and not name:
            raise forms.ValidationError("A name is required.", code="required")
        return name


class SubscriptionInput(forms.Form):
    product = JsonSlugField(max_length=100)
    application = JsonUUIDField(required=False)
    name = JsonCharField(required=False, max_length=100, strip=True, validators=[validate_name])
    accept_terms = JsonBooleanField(required=False)


PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# Far past any list's end, and within every database's integers: a larger offset reached
# SQLite as an integer it cannot hold (OverflowError, a 500).
MAX_OFFSET = 2**31 - 1


class PageQuery(forms.Form):
    """`?limit=&offset=` of a list (absent: the first PAGE_SIZE rows)."""

    limit = forms.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE)
    offset = forms.IntegerField(required=False, min_value=0, max_value=MAX_OFFSET)


class UsageQuery(forms.Form):
    """`?range=` of a usage answer: the developer pages' ranges; absent, the last 24 hours."""

    range = forms.ChoiceField(
        required=False,
        choices=list(windows.RANGES.items()),
        error_messages={"invalid_choice": f"One of {', '.join(windows.RANGES)}."},
    )


def errors_of(form: forms.Form) -> dict[str, Any]:
    return {field: [str(m) for m in messages] for field, messages in form.errors.items()}
