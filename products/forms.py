from __future__ import annotations

from django import forms

from portal.lib.names import validate_name


class SubscribeForm(forms.Form):
    name = forms.CharField(
        required=False,
        max_length=100,
        strip=True,
        validators=[validate_name],  # as the admin's form and flows.subscribe
        help_text='Optional, e.g. "staging".',
    )
    accept_terms = forms.BooleanField(required=False, label="I accept the terms of use")
    # Product.terms_version of the terms the page showed (absent: not checked, as from a
    # script that read them elsewhere).
    terms_version = forms.CharField(required=False, max_length=64)
    # Empty: for the developer themselves; else the uuid of one of their applications.
    application = forms.UUIDField(required=False)


class KeyForm(forms.Form):
    which = forms.ChoiceField(choices=[("primary", "Primary"), ("secondary", "Secondary")])


class DecisionForm(forms.Form):
    action = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    reason = forms.CharField(required=False, max_length=1000, strip=True)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("action") == "reject" and not data.get("reason"):
            self.add_error("reason", "Say why, for the developer.")
        return data


class AdminReasonForm(forms.Form):
    """The intermediate page of the admin's state actions: an optional word for the developer."""

    reason = forms.CharField(
        required=False,
        max_length=1000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Optional. The developer's e-mail and the subscription's history show it; "
        "left empty, they say only what happened.",
    )
