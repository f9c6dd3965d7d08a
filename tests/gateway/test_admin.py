"""The gateway admin: routes with their validate-jwt policy, refused when misconfigured."""

from __future__ import annotations

import io
import shutil
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.utils.html import strip_tags

from apis.models import Api
from gateway.models import JwtPolicy, Route
from tests.conftest import DEMO_SPECS

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    user = User(username="boss", is_staff=True, is_superuser=True)
    user.set_unusable_password()
    user.save()
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def echo_api() -> Api:
    call_command("importspec", str(DEMO_SPECS / "echo.yaml"), slug="echo", publish=True,
                 stdout=io.StringIO())  # fmt: skip
    return Api.objects.get(slug="echo")


def form(api: Api, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "api": api.pk, "suffix": "echo", "is_enabled": "on", "backend": "upstream",
        "upstream_url": "https://echo.example.com/v1", "timeout": 30,
        "rate_limit_period": 60, "rate_limit_key": "address",
        "rate_limit_on_store_unavailable": "allow",
        "cors_allowed_origins": "[]", "cors_allowed_methods": '["GET"]',
        "cors_allowed_headers": "[]", "cors_expose_headers": "[]", "cors_max_age": 600,
        "jwt_policy-TOTAL_FORMS": 1, "jwt_policy-INITIAL_FORMS": 0,
        "jwt_policy-MIN_NUM_FORMS": 0, "jwt_policy-MAX_NUM_FORMS": 1,
        "jwt_policy-0-header_name": "Authorization", "jwt_policy-0-require_scheme": "Bearer",
        "jwt_policy-0-failed_validation_httpcode": 401,
        "jwt_policy-0-require_expiration_time": "on", "jwt_policy-0-require_signed_tokens": "on",
        "jwt_policy-0-clock_skew": 0,
        "jwt_policy-0-openid_config": '["https://idp.example.com/.well-known/openid-configuration"]',
        "jwt_policy-0-issuer_signing_keys": "[]", "jwt_policy-0-audiences": '["api://echo"]',
        "jwt_policy-0-issuers": "[]", "jwt_policy-0-algorithms": '["RS256"]',
        "jwt_policy-0-typ_exempt_issuers": "[]", "jwt_policy-0-require_rfc9068_claims": "on",
        "jwt_policy-0-max_lifetime": 86400, "jwt_policy-0-max_token_bytes": 8192,
    }  # fmt: skip
    data.update(overrides)
    return data


def test_admin_creates_route_with_policy(admin_client: Client, echo_api: Api) -> None:
    resp = admin_client.post("/admin/gateway/route/add/", form(echo_api))
    assert resp.status_code == 302, resp.content[:2000]
    route = Route.objects.get(suffix="echo")
    assert JwtPolicy.objects.get(route=route).audiences == ["api://echo"]
    assert admin_client.get("/admin/gateway/route/").status_code == 200


def test_the_suffix_help_says_where_the_gateway_answers(admin_client: Client) -> None:
    page = strip_tags(admin_client.get("/admin/gateway/route/add/").content.decode())
    assert "/gateway/echo/…" in page
    assert "/gateway//" not in page  # "<suffix>" was read as a tag and not shown


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("jwt_policy-0-algorithms", '["HS256"]', "Not allowed: HS256"),
        ("jwt_policy-0-openid_config", "[]", "Give an openid-config URL"),
        ("upstream_url", "", "An upstream backend needs a URL"),
        ("suffix", "Bad Suffix", "Lower-case letters"),
        ("suffix", "a/b/c/d/e/f/g/h/i", "At most 8 segments"),
        # The admin refuses what the configuration file refuses.
        ("jwt_policy-0-audiences", "[]", "At least one audience, or &quot;any&quot;"),
        ("jwt_policy-0-max_lifetime", "0", "A positive number of seconds, or none"),
        # A day of leeway would keep an expired token good for a day (the file: at most 3600).
        ("jwt_policy-0-clock_skew", "86400", "Between 0 and 3600 seconds."),
        ("rate_limit_calls", "0", "At least 1 call, or empty for no limit."),
        ("rate_limit_period", "0", "At least 1 second."),
        ("cors_allowed_origins", '["https://app.example.com/"]', "is not an origin"),
        ("upstream_url", "https://echo.example.com/v1?code=k", "no query or fragment"),
        ("upstream_url", "https://echo.example.com/v1#x", "no query or fragment"),
    ],
)
def test_admin_refuses_broken_configuration(
    admin_client: Client, echo_api: Api, field: str, value: str, message: str
) -> None:
    resp = admin_client.post("/admin/gateway/route/add/", form(echo_api, **{field: value}))
    assert resp.status_code == 200
    assert message in resp.content.decode()
    assert not Route.objects.exists()


def test_admin_takes_the_visible_choices(admin_client: Client, echo_api: Api) -> None:
    """`audiences: any` and `max-lifetime: none` of the file, in the admin: "any" (a JSON
    string) and an empty lifetime."""
    data = form(echo_api, **{"jwt_policy-0-audiences": '"any"', "jwt_policy-0-max_lifetime": ""})
    resp = admin_client.post("/admin/gateway/route/add/", data)
    assert resp.status_code == 302, resp.content[:2000]
    policy = JwtPolicy.objects.get(route__suffix="echo")
    assert (policy.audiences, policy.max_lifetime) == ("any", None)


def test_admin_requires_staff(client: Client) -> None:
    resp = client.get("/admin/gateway/route/")
    assert resp.status_code == 302 and "/login/" in resp["Location"]


SAME_AS_FILE = """\
apis:
  - slug: echo
    spec: echo.yaml
    gateway:
      suffix: echo
      backend: https://echo.example.com/v1
      validate-jwt:
        openid-config: https://idp.example.com/.well-known/openid-configuration
        audiences: [api://echo]
        clock-skew: 30
        failed-validation-error-message: "Sign in again. "
        required-claims:
          - {name: scope, match: any, separator: " ", values: [echo.read], methods: [GET]}
          - {name: roles, match: all, separator: ",", values: [reader], operation: echoGet}
      rate-limit-by-key: {calls: 100, renewal-period: 60, counter-key: subject}
      cors: {allowed-origins: [https://app.example.com], allowed-headers: [X-Trace]}
"""


def _resubmit(client: Client, url: str, **changes: Any) -> Any:
    """Open an admin change page and save it as shown, changing nothing: what an operator
    does who opens a policy to read it and presses Save."""
    from django import forms

    page = client.get(url)
    assert page.status_code == 200
    data: dict[str, Any] = {}
    every = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        for bound in inline.formset.management_form:
            data[bound.html_name] = bound.value()
        every += inline.formset.forms
    for one in every:
        for bound in one:
            value = bound.value()
            if isinstance(bound.field, forms.BooleanField):
                if value:
                    data[bound.html_name] = "on"
            elif value is not None:
                data[bound.html_name] = value
    data.update(changes)
    return client.post(url, data)


def _route_config(route: Route) -> dict[str, Any]:
    import dataclasses

    from gateway.config import build_route

    config = build_route(Route.objects.select_related("api", "jwt_policy").get(pk=route.pk))
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}


def test_admin_save_gives_the_policy_applyconfig_gave(admin_client: Client, tmp_path: Any) -> None:
    """The admin used to strip the scope separator " " to "", so after an unchanged save
    every call got 403. Apply a file, save the same values in the admin (route page, then
    policy page with its claims), and the gateway's policy is the same field by field."""
    import shutil

    shutil.copy(DEMO_SPECS / "echo.yaml", tmp_path / "echo.yaml")
    (tmp_path / "portal.yaml").write_text(SAME_AS_FILE)
    call_command("applyconfig", str(tmp_path / "portal.yaml"), stdout=io.StringIO())
    route = Route.objects.get(suffix="echo")
    policy = JwtPolicy.objects.get(route=route)
    from_file = _route_config(route)
    assert from_file["policy"].required_claims[0].separator == " "

    resp = _resubmit(admin_client, f"/admin/gateway/route/{route.pk}/change/")
    assert resp.status_code == 302, resp.content[:3000]
    resp = _resubmit(admin_client, f"/admin/gateway/jwtpolicy/{policy.pk}/change/")
    assert resp.status_code == 302, resp.content[:3000]

    from_admin = _route_config(route)
    for name, value in from_file.items():
        if name == "policy":
            import dataclasses

            for field in dataclasses.fields(value):
                assert getattr(from_admin["policy"], field.name) == getattr(value, field.name), (
                    field.name
                )
        else:
            assert from_admin[name] == value, name
    # And applying the file again finds nothing to change.
    out = io.StringIO()
    call_command("applyconfig", str(tmp_path / "portal.yaml"), stdout=out)
    assert out.getvalue().strip() == "Nothing to change."


def test_admin_operation_rules_hold_the_operation_slug(admin_client: Client, tmp_path: Any) -> None:
    """Calls are matched by the operation's slug ("echoget"), so a rule typed with the
    operationId ("echoGet") is stored as the slug; an unknown operation is refused (it used
    to be saved as typed and never applied)."""
    import shutil

    from apis.models import Operation
    from gateway.models import RequiredClaim

    shutil.copy(DEMO_SPECS / "echo.yaml", tmp_path / "echo.yaml")
    (tmp_path / "portal.yaml").write_text(SAME_AS_FILE)
    call_command("applyconfig", str(tmp_path / "portal.yaml"), stdout=io.StringIO())
    policy = JwtPolicy.objects.get(route__suffix="echo")
    url = f"/admin/gateway/jwtpolicy/{policy.pk}/change/"
    resp = _resubmit(admin_client, url, **{"claims-0-operation": "nosuchOperation"})
    assert resp.status_code == 200 and "no such operation" in resp.content.decode()
    resp = _resubmit(admin_client, url, **{"claims-0-operation": "echoPost"})
    assert resp.status_code == 302
    slug = Operation.objects.get(operation_id="echoPost", version__api__slug="echo").slug
    assert RequiredClaim.objects.get(policy=policy, position=0).operation == slug


def test_migration_turns_stored_operation_ids_into_slugs(tmp_path: Any) -> None:
    import importlib
    import shutil

    from django.apps import apps

    from apis.models import Operation
    from gateway.models import RequiredClaim

    shutil.copy(DEMO_SPECS / "echo.yaml", tmp_path / "echo.yaml")
    (tmp_path / "portal.yaml").write_text(SAME_AS_FILE)
    call_command("applyconfig", str(tmp_path / "portal.yaml"), stdout=io.StringIO())
    claim = RequiredClaim.objects.exclude(operation="").get()
    RequiredClaim.objects.filter(pk=claim.pk).update(operation="echoGet")  # as the old code
    migration = importlib.import_module("gateway.migrations.0002_config_file_keys")
    migration.operation_ids_to_slugs(apps, None)
    claim.refresh_from_db()
    assert claim.operation == Operation.objects.get(operation_id="echoGet").slug


def test_case61_a_rule_whose_operation_is_gone_applies_to_every_call(tmp_path: Any) -> None:
    # A re-import that renamed `echoGet` made the rule bound to it name nothing: it silently
    # stopped applying, and the call it guarded went through with any token. Fail closed.
    from apis.models import Operation
    from gateway.config import load_routes

    shutil.copy(DEMO_SPECS / "echo.yaml", tmp_path / "echo.yaml")
    (tmp_path / "portal.yaml").write_text(SAME_AS_FILE)
    call_command("applyconfig", str(tmp_path / "portal.yaml"), stdout=io.StringIO())

    def roles_rule() -> Any:
        policy = load_routes()["echo"].policy
        assert policy is not None
        return next(r for r in policy.required_claims if r.name == "roles")

    assert not roles_rule().applies_to("POST", "echoPost")  # bound to echoGet alone
    Operation.objects.filter(operation_id="echoGet").update(
        slug="echoFetch", operation_id="echoFetch"
    )
    assert roles_rule().applies_to("GET", "echoFetch")
    assert roles_rule().applies_to("POST", "echoPost")


def test_a_routes_page_lists_its_policys_claim_rules_and_links_them(
    admin_client: Client, echo_api: Api
) -> None:
    # The route's page shows its validate-jwt policy inline, but not the required claims
    # (scopes per method) kept on the policy's own page, and nothing led there.
    from gateway import demo

    demo.seed(io.StringIO())
    route = Route.objects.get(api=echo_api)
    policy = route.jwt_policy
    page = admin_client.get(f"/admin/gateway/route/{route.pk}/change/").content.decode()
    text = " ".join(strip_tags(page).split())
    assert "scope any of echo.read (GET HEAD OPTIONS); scope any of echo.write" in text
    assert f'href="/admin/gateway/jwtpolicy/{policy.pk}/change/#claims-group"' in page


def test_admin_refuses_a_claim_value_with_spaces_around_it(
    admin_client: Client, tmp_path: Any
) -> None:
    """`[" echo.read"]` never matches a token's scope (split at its spaces): the policy page
    says which value of which claim, as applyconfig does, instead of saving a rule that
    refuses every call."""
    from gateway.models import RequiredClaim

    shutil.copy(DEMO_SPECS / "echo.yaml", tmp_path / "echo.yaml")
    (tmp_path / "portal.yaml").write_text(SAME_AS_FILE)
    call_command("applyconfig", str(tmp_path / "portal.yaml"), stdout=io.StringIO())
    policy = JwtPolicy.objects.get(route__suffix="echo")
    url = f"/admin/gateway/jwtpolicy/{policy.pk}/change/"
    resp = _resubmit(admin_client, url, **{"claims-0-values": '[" echo.read"]'})
    assert resp.status_code == 200
    assert "The value &#x27; echo.read&#x27; of scope starts or ends with a space" in (
        resp.content.decode()
    )
    assert RequiredClaim.objects.get(policy=policy, position=0).values == ["echo.read"]
