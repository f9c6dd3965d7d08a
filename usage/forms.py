"""Query-string parsers for the usage pages: the range, and the staff reports' filters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.forms.models import ModelChoiceIterator
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe

from usage import windows
from usage.cells import CLIENT_ID_LENGTH, OPERATION_LENGTH

RANGE_CHOICES = [(key, label) for key, label in windows.RANGES.items()]
DIMENSIONS = [
    ("api", "API"),
    ("operation", "Operation"),
    ("product", "Product"),
    ("subscription", "Subscription"),
    ("application", "Application"),
    ("developer", "Developer"),
]
ORDERS = [("calls", "Calls"), ("errors", "Errors"), ("time", "Time")]
LONGEST_CUSTOM = timedelta(days=731)  # the day rollups' default retention
# Custom dates the window can be built from in any zone: the day after the end, and local
# midnights shifted by up to 14 hours, must stay inside datetime's years 1 to 9999.
EARLIEST_DAY = date(1970, 1, 1)
LATEST_DAY = date(9998, 12, 31)


class RangeForm(forms.Form):
    range = forms.ChoiceField(choices=RANGE_CHOICES, required=False)

    def clean_range(self) -> str:
        return self.cleaned_data.get("range") or windows.DEFAULT_RANGE


def range_of(query: Any) -> str:
    """The range a query string asks for; the default for a missing or unknown one."""
    form = RangeForm(query)
    return form.cleaned_data["range"] if form.is_valid() else windows.DEFAULT_RANGE


def _attrs(attrs: dict[str, Any]) -> str:
    """django/forms/widgets/attrs.html: ` name="value"`, ` name` for True, nothing for False."""
    return "".join(
        f" {name}" if value is True else f' {name}="{escape(str(value))}"'
        for name, value in attrs.items()
        if value is not False
    )


class ListSelect(forms.Select):
    """Django's Select, its markup (django/forms/widgets/select.html and select_option.html,
    character for character) written here: through the form renderer every option is one
    more template include, about 2 ms a page for the reports' 50 APIs and their products."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        out = [f'<select name="{escape(widget["name"])}"{_attrs(widget["attrs"])}>']
        for group_name, options, _ in widget["optgroups"]:
            if group_name:
                out.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
            out.extend(
                f'\n  <option value="{escape(str(option["value"]))}"{_attrs(option["attrs"])}>'
                f"{conditional_escape(option['label'])}</option>\n"  # the include's last line
                for option in options
            )
            if group_name:
                out.append("\n  </optgroup>")
        out.append("\n</select>")
        return mark_safe("".join(out))  # noqa: S308  (every text above is escaped)


class _ListedChoices(ModelChoiceIterator):
    """The choices in one plain query: ModelChoiceIterator reads them with .iterator(), on
    PostgreSQL a server-side cursor (DECLARE, FETCH, CLOSE: three round trips) for a few
    dozen rows."""

    def __iter__(self) -> Iterator[Any]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():
            yield self.choice(obj)


class ListedChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField whose choices are read in one query and written by ListSelect."""

    iterator = _ListedChoices
    widget = ListSelect


class ReportFilterForm(forms.Form):
    """The staff reports' filters. Choices of APIs and products are those the viewer may see,
    so a hidden API's slug is refused like an unknown one."""

    range = forms.ChoiceField(
        choices=[*RANGE_CHOICES, ("custom", "Dates below")],
        required=False,
        label="Time range",
        widget=ListSelect,
    )
    start = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        required=False, label="To (inclusive)", widget=forms.DateInput(attrs={"type": "date"})
    )
    api = ListedChoiceField(
        queryset=None, required=False, to_field_name="slug", label="API", empty_label="All APIs"
    )
    operation = forms.CharField(required=False, max_length=OPERATION_LENGTH, label="Operation")
    product = ListedChoiceField(
        queryset=None, required=False, to_field_name="slug", empty_label="All products"
    )
    subscription = forms.UUIDField(required=False, label="Subscription id")
    application = forms.CharField(
        required=False, max_length=CLIENT_ID_LENGTH, label="Application client id"
    )
    developer = forms.CharField(required=False, max_length=150, label="Developer (user name)")
    by = forms.ChoiceField(choices=DIMENSIONS, required=False, label="Rank")
    order = forms.ChoiceField(choices=ORDERS, required=False, label="By")

    def __init__(self, data: Any, *, apis: Any, products: Any) -> None:
        super().__init__(data)
        api_field = self.fields["api"]
        product_field = self.fields["product"]
        assert isinstance(api_field, forms.ModelChoiceField)
        assert isinstance(product_field, forms.ModelChoiceField)
        # A choice needs its slug (the value) and name (the label, __str__) only; an API
        # row carries its search text too.
        api_field.queryset = apis.order_by("name").only("pk", "slug", "name")
        product_field.queryset = products.order_by("name").only("pk", "slug", "name")
        for name in ("operation", "application", "developer"):
            self.fields[name].widget.attrs["autocomplete"] = "off"

    def clean_by(self) -> str:
        return self.cleaned_data.get("by") or "api"

    def clean_order(self) -> str:
        return self.cleaned_data.get("order") or "calls"

    def clean_developer(self) -> Any:
        name = self.cleaned_data.get("developer") or ""
        if not name:
            return None
        user = get_user_model().objects.filter(username=name).first()
        if user is None:
            raise forms.ValidationError("No developer has this user name.")
        return user

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start or end or data.get("range") == "custom":
            if not (start and end):
                self.add_error("start", "Give both dates, or choose a range.")
            elif start < EARLIEST_DAY or end > LATEST_DAY:
                self.add_error("start", f"Dates from {EARLIEST_DAY} to {LATEST_DAY}.")
            elif end < start:
                self.add_error("end", "The end comes before the start.")
            elif end - start > LONGEST_CUSTOM:
                self.add_error("end", "At most two years.")
            else:
                data["range"] = "custom"
        data["range"] = data.get("range") or windows.DEFAULT_RANGE
        return data

    def window(self, now: datetime, tz: tzinfo) -> windows.Window:
        data = self.cleaned_data
        if data["range"] == "custom":
            start: date = data["start"]
            end: date = data["end"]
            return windows.custom_window(
                windows.local_midnight(start, tz),
                windows.local_midnight(end + timedelta(days=1), tz),
                tz,
            )
        return windows.preset_window(data["range"], now, tz)
