"""The admin for products, groups and subscriptions.

State changes go through products/flows.py (admin actions), so each is audited and e-mailed
like on the pages; the state field itself is read-only here. Events cannot be deleted.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import ngettext

from apis.models import Api
from portal.lib.times import short_time
from products import flows
from products.forms import AdminReasonForm
from products.grants import spec_scopes
from products.models import (
    ApiKeyNames,
    Group,
    Membership,
    Product,
    Subscription,
    SubscriptionEvent,
)
from products.visibility import apis_nobody_sees


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    readonly_fields = ["source"]


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "builtin")
    search_fields = ("name", "slug")
    fields = ("name", "slug", "description", "claim_values")  # slug is filled in from name
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipInline]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not (obj is not None and obj.builtin) and super().has_delete_permission(request)

    def get_inlines(self, request: HttpRequest, obj: Any) -> list[Any]:
        return [] if obj is not None and obj.builtin else list(self.inlines)  # implicit members

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The portal finds a built-in group by its slug, and its members are implicit: no
        # claim value makes one (products/groups.py reads custom groups only).
        builtin = obj is not None and obj.builtin
        return [
            *super().get_readonly_fields(request, obj),
            *(("slug", "claim_values") if builtin else ()),
        ]

    def get_prepopulated_fields(self, request: HttpRequest, obj: Any = None) -> dict[str, Any]:
        return {} if obj is not None and obj.builtin else dict(self.prepopulated_fields)


class ProductForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Product
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        """`api_scopes` names the product's APIs and scopes their specs define, as applyconfig
        requires: an entry under any other slug ('Echo', a typo) is never read, and no entry
        grants every scope of the API, so a product meant read-only granted writes too."""
        data = super().clean() or {}
        scopes = data.get("api_scopes")
        apis = data.get("apis")
        if not isinstance(scopes, dict) or apis is None:
            return data
        by_slug = {api.slug: api for api in apis}
        for slug, chosen in scopes.items():
            api = by_slug.get(slug)
            if api is None:
                self.add_error(
                    "api_scopes",
                    f"{slug!r} is not one of the product's APIs "
                    f"({', '.join(sorted(by_slug)) or 'none chosen'}).",
                )
                continue
            defined = spec_scopes(api)
            unknown = [s for s in chosen if s not in defined] if isinstance(chosen, list) else []
            if unknown:
                self.add_error(
                    "api_scopes",
                    f"The API {slug!r} defines no scope {unknown[0]!r} "
                    f"(it defines {', '.join(sorted(defined)) or 'none'}).",
                )
        return data


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductForm
    # Short headers, so that the subscribers' column fits beside the navigation at 1280 px.
    list_display = ("name", "slug", "published", "subscription", "approval", "subscription_count")
    list_filter = ("published", "approval_required")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("apis", "groups")
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "slug",
                    "description",
                    "published",
                    "apis",
                    "api_scopes",
                    "groups",
                ]
            },
        ),
        (
            "Subscriptions",
            {
                "fields": [
                    "subscribers",
                    "subscription_required",
                    "approval_required",
                    "subscriptions_limit",
                    "terms",
                ]
            },
        ),  # fmt: skip
        (
            "Limits per subscription (gateway)",
            {
                "fields": [
                    "rate_limit_calls",
                    "rate_limit_period",
                    "quota_calls",
                    "quota_kilobytes",
                    "quota_period",
                ]
            },
        ),
    ]

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "published" and field is not None:
            # In the form, not the model: a model's help text is a migration.
            field.help_text = (
                "Unticked, the product is a draft: its APIs are hidden from everyone but "
                "drafts' viewers and the gateway refuses their calls and its keys, unless "
                "another published product offers them."
            )
        return field

    readonly_fields = ("subscribers",)

    # How a state reads in a product's count, in this order.
    _STATE_WORDS = [
        (Subscription.ACTIVE, "active"),
        (Subscription.SUBMITTED, "waiting for approval"),
        (Subscription.SUSPENDED, "suspended"),
        (Subscription.REJECTED, "rejected"),
        (Subscription.CANCELLED, "cancelled"),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        return super().get_queryset(request).annotate(sub_count=Count("subscriptions"))

    @staticmethod
    def _subscriptions_url(product: Product) -> str:
        return reverse("admin:products_subscription_changelist") + (
            f"?product__id__exact={product.pk}"
        )

    @admin.display(description="subscription", boolean=True, ordering="subscription_required")
    def subscription(self, product: Product) -> bool:
        return product.subscription_required

    @admin.display(description="approval", boolean=True, ordering="approval_required")
    def approval(self, product: Product) -> bool:
        return product.approval_required

    @admin.display(description="subscribers", ordering="sub_count")
    def subscription_count(self, product: Product) -> SafeString:
        count = getattr(product, "sub_count", 0)
        return format_html('<a href="{}">{}</a>', self._subscriptions_url(product), count)

    @admin.display(description="subscribers")
    def subscribers(self, product: Product) -> str:
        """Who subscribed, counted by state, with links to them and to the approval queue."""
        if product.pk is None:
            return "None yet: developers subscribe on the product's page once it is published."
        by_state = dict(
            product.subscriptions.order_by()
            .values_list("state")
            .annotate(n=Count("pk"))
            .values_list("state", "n")
        )
        total = sum(by_state.values())
        if not total:
            return "No subscriptions yet."
        parts = ", ".join(
            f"{by_state[state]} {words}" for state, words in self._STATE_WORDS if state in by_state
        )
        text = format_html(
            '{}: {}. <a href="{}">See them</a>.',
            ngettext("%(n)d subscription", "%(n)d subscriptions", total) % {"n": total},
            parts,
            self._subscriptions_url(product),
        )
        if by_state.get(Subscription.SUBMITTED):
            text += format_html(
                ' Approve or reject them in <a href="{}">the approval queue</a>.',
                reverse("products:approvals"),
            )
        return text

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        before = set(form.instance.apis.values_list("pk", flat=True)) if change else set()
        super().save_related(request, form, formsets, change)
        warning = _closing_warning(form.instance)
        if warning:
            self.message_user(request, warning, messages.WARNING)
        removed = before - set(form.instance.apis.values_list("pk", flat=True))
        if warning := _opening_warning(removed):
            self.message_user(request, warning, messages.WARNING)

    def delete_model(self, request: HttpRequest, obj: Product) -> None:
        offered = set(obj.apis.values_list("pk", flat=True))
        super().delete_model(request, obj)
        if warning := _opening_warning(offered):
            self.message_user(request, warning, messages.WARNING)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        offered = set(Product.apis.through.objects.filter(product__in=queryset).values_list(
            "api_id", flat=True))  # fmt: skip
        super().delete_queryset(request, queryset)
        if warning := _opening_warning(offered):
            self.message_user(request, warning, messages.WARNING)


def _opening_warning(api_ids: set[int]) -> str:
    """The published APIs among `api_ids` that a save or a deletion left in no product: they
    are public now, seen by everyone and called without a key (products/visibility.py)."""
    if not api_ids:
        return ""
    opened = list(
        Api.objects.filter(pk__in=sorted(api_ids), is_published=True, products__isnull=True)
        .order_by("name")
        .values_list("name", flat=True)
    )
    if not opened:
        return ""
    return ngettext(
        "%(names)s is now in no product: it is public, everyone sees it and the gateway "
        "takes its calls without a key. Unpublish the API to stop it.",
        "%(names)s are now in no product: they are public, everyone sees them and the gateway "
        "takes their calls without a key. Unpublish the APIs to stop them.",
        len(opened),
    ) % {"names": ", ".join(opened)}


def _closing_warning(product: Product) -> str:
    """What a save of `product` hides or closes, in plain words, or "".

    A published product without groups hides itself, and takes its APIs from the catalog too
    (even public ones). An unpublished product hides its APIs (an API in a product is no longer
    public) and the gateway refuses their calls and its own keys; nothing else tells the
    publisher."""
    hidden = apis_nobody_sees(product)
    names = ", ".join(api.name for api in hidden)
    if product.published:
        if product.groups.exists():
            return ""
        text = f"{product.name} is published, but no group may see it."
        if hidden:
            text += " " + ngettext(
                "Its API %(names)s is now hidden from everyone.",
                "Its %(n)d APIs %(names)s are now hidden from everyone.",
                len(hidden),
            ) % {"n": len(hidden), "names": names}
        return text + " Add a group (Developers: anyone signed in) to offer it."
    live = product.subscriptions.filter(state=Subscription.ACTIVE).count()
    if not hidden and not live:
        return ""
    text = f"{product.name} is not published."
    if hidden:
        text += " " + ngettext(
            "Its API %(names)s is now hidden from everyone but drafts' viewers, and the "
            "gateway refuses its calls, until a published product offers it.",
            "Its %(n)d APIs %(names)s are now hidden from everyone but drafts' viewers, and "
            "the gateway refuses their calls, until a published product offers them.",
            len(hidden),
        ) % {"n": len(hidden), "names": names}
    if live:
        text += " " + ngettext(
            "The keys of its %(n)d active subscription are refused until it is published again.",
            "The keys of its %(n)d active subscriptions are refused until it is published again.",
            live,
        ) % {"n": live}
    return text


class EventInline(admin.TabularInline):
    model = SubscriptionEvent
    extra = 0
    can_delete = False
    readonly_fields = ["created", "action", "from_state", "to_state", "actor", "reason"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _state_action(action: str, label: str, done_label: str, permission: str) -> Any:
    """An admin action that asks for an optional reason first, as delete_selected asks for a
    confirmation. The reason goes to the developer as typed; who acted is kept on the event
    and in the audit log, not in the developer's mail.

    `permission` ("approve" or "change") is what the user needs to be offered it and to run
    it: an action without one is open to anyone who may view the list."""

    def run(
        modeladmin: Any, request: HttpRequest, queryset: QuerySet[Subscription]
    ) -> HttpResponse | None:
        form = AdminReasonForm(request.POST if request.POST.get("post") else None)
        if not form.is_valid():
            context = {
                **modeladmin.admin_site.each_context(request),
                "title": f"{label} selected subscriptions",
                "subtitle": None,
                "opts": modeladmin.model._meta,
                "queryset": queryset.select_related("product", "owner"),
                "action": f"{action}_selected",
                "label": label,
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "media": modeladmin.media,
            }
            request.current_app = modeladmin.admin_site.name
            return TemplateResponse(
                request, "admin/products/subscription/state_action.html", context
            )
        done = 0
        for sub in queryset:
            try:
                flows.change_state(sub, action, request.user, form.cleaned_data["reason"])
                done += 1
            except flows.FlowError as exc:
                modeladmin.message_user(request, f"{sub}: {exc}", messages.WARNING)
        if done:
            modeladmin.message_user(
                request,
                ngettext("%(done)s %(n)d subscription.", "%(done)s %(n)d subscriptions.", done)
                % {"done": done_label, "n": done},
            )
        return None

    run.__name__ = f"{action}_selected"
    return admin.action(description=f"{label} selected subscriptions", permissions=[permission])(
        run
    )


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "owner", "application", "product", "state", "since")
    list_filter = ("state", "product")
    search_fields = ("name", "owner__username", "owner__email", "product__name")
    readonly_fields = ["uuid", "owner", "application", "product", "state", "terms_accepted"]
    readonly_fields += ["created", "updated"]
    fields = ["uuid", "name", "owner", "application", "product", "state", "terms_accepted"]
    fields += ["created", "updated"]
    inlines = [EventInline]
    actions = [
        # Approving and rejecting need the approval queue's permission; the others change
        # a live subscription.
        _state_action("approve", "Approve", "Approved", "approve"),
        _state_action("reject", "Reject", "Rejected", "approve"),
        _state_action("suspend", "Suspend", "Suspended", "change"),
        _state_action("reactivate", "Reactivate", "Reactivated", "change"),
        _state_action("cancel", "Cancel", "Cancelled", "change"),
    ]

    @admin.display(description="created", ordering="created")
    def since(self, sub: Subscription) -> str:
        return short_time(sub.created)

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("products.approve_subscription")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # subscriptions start with flows.subscribe (keys, limits, audit)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # cancel instead: the audit trail stays


@admin.register(SubscriptionEvent)
class SubscriptionEventAdmin(admin.ModelAdmin):
    list_display = ("created", "subscription", "action", "from_state", "to_state", "actor")
    list_filter = ("action",)
    readonly_fields = ["subscription", "action", "from_state", "to_state", "actor", "reason",
                       "created"]  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiKeyNames)
class ApiKeyNamesAdmin(admin.ModelAdmin):
    list_display = ("api", "header", "query")
    autocomplete_fields = ["api"]
