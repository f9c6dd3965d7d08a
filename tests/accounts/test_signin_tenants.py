"""Sign-in through a multi-tenant endpoint (Microsoft Entra ID's `common`, `organizations`).

One discovery document serves every tenant: its issuer is the template
`<base>/{tenantid}/v2.0` and each ID token's `iss` names the person's own tenant, whose id its
`tid` claim carries. The provider here is the loopback stub answering that way.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from tests.accounts.test_signin_errors import CALLBACK, LOGIN, assert_failed, start

pytestmark = pytest.mark.django_db

CONTOSO = "72f988bf-86f1-41af-91ab-2d7cd011db47"
FABRIKAM = "9188040d-6c67-4c5b-b112-36a304b66dad"


@pytest.fixture
def entra(stub_op: Any, settings: Any) -> Any:
    """The stub as Entra's multi-tenant endpoint, configured as OIDC_ISSUER=<base>/common/v2.0."""
    stub_op.discovery_overrides = {"issuer": f"{stub_op.issuer}/{{tenantid}}/v2.0"}
    configure(settings, stub_op, "common")
    return stub_op


def configure(settings: Any, op: Any, tenant: str) -> None:
    app = settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"][0]
    app["settings"] = {**app["settings"], "expected_issuer": f"{op.issuer}/{tenant}/v2.0"}


def sign_in(client: Client, op: Any, tenant: str, **claims: Any) -> Any:
    op.claims = {"iss": f"{op.issuer}/{tenant}/v2.0", "tid": tenant, **claims}
    params = start(client)
    return client.get(CALLBACK, {"code": "c", "state": params["state"]})


@pytest.mark.parametrize("tenant", [CONTOSO, FABRIKAM])
def test_a_person_of_any_tenant_signs_in_through_common(
    client: Client, entra: Any, tenant: str
) -> None:
    response = sign_in(client, entra, tenant)
    assert response.status_code == 302 and response["Location"] == "/apis/"
    assert client.session[SESSION_KEY]


def test_the_organizations_endpoint_too(client: Client, entra: Any, settings: Any) -> None:
    configure(settings, entra, "organizations")
    assert sign_in(client, entra, CONTOSO).status_code == 302
    assert client.session[SESSION_KEY]


def test_an_id_token_whose_issuer_is_not_its_own_tenant_is_refused(
    client: Client, entra: Any
) -> None:
    # Issued by Contoso's issuer but claiming Fabrikam's tenant: Microsoft's rule is that the
    # issuer is the template with the token's own tid, nothing else.
    response = sign_in(client, entra, CONTOSO, tid=FABRIKAM)
    assert_failed(response, "invalid_id_token", client)


@pytest.mark.parametrize(
    "tid", [None, "", "common", "../evil", 42, ["72f988bf-86f1-41af-91ab-2d7cd011db47"]]
)
def test_an_id_token_without_a_tenant_id_is_refused(client: Client, entra: Any, tid: Any) -> None:
    response = sign_in(client, entra, CONTOSO, tid=tid, iss=f"{entra.issuer}/{tid}/v2.0")
    assert_failed(response, "invalid_id_token", client)


def test_the_literal_template_is_no_issuer(client: Client, entra: Any) -> None:
    response = sign_in(client, entra, CONTOSO, iss=f"{entra.issuer}/{{tenantid}}/v2.0")
    assert_failed(response, "invalid_id_token", client)


def test_a_portal_configured_for_one_tenant_refuses_the_others(
    client: Client, entra: Any, settings: Any
) -> None:
    """OIDC_ISSUER naming one tenant with a multi-tenant discovery document keeps that tenant."""
    configure(settings, entra, CONTOSO)
    assert_failed(sign_in(client, entra, FABRIKAM), "invalid_id_token", client)
    assert sign_in(client, entra, CONTOSO).status_code == 302
    assert client.session[SESSION_KEY]


@pytest.mark.parametrize(
    "template",
    [
        "https://evil.example/{{tenantid}}/v2.0",  # another host
        "{base}/{{tenantid}}/v1.0",  # another version
        "{base}/{{tenantid}}",
        "{base}/x/{{tenantid}}/v2.0",  # the template's segment not where the configured one is
    ],
)
def test_a_template_that_does_not_fit_the_configured_issuer_is_refused(
    client: Client, entra: Any, template: str
) -> None:
    entra.discovery_overrides = {"issuer": template.format(base=entra.issuer)}
    response = client.post(f"{LOGIN}?process=login")
    assert_failed(response, "issuer_mismatch", client)


def test_an_rfc9207_iss_naming_a_tenant_is_the_template_filled_in(
    client: Client, entra: Any
) -> None:
    entra.claims = {"iss": f"{entra.issuer}/{CONTOSO}/v2.0", "tid": CONTOSO}
    params = start(client)
    good = {"code": "c", "state": params["state"], "iss": f"{entra.issuer}/{CONTOSO}/v2.0"}
    assert client.get(CALLBACK, good).status_code == 302

    client.logout()
    params = start(client)
    bad = {"code": "c", "state": params["state"], "iss": f"{entra.issuer}/evil/path/v2.0"}
    assert_failed(client.get(CALLBACK, bad), "issuer_mismatch", client)


def test_an_rfc9207_iss_of_another_tenant_than_the_id_tokens_is_refused(
    client: Client, entra: Any
) -> None:
    """The authorization response says it came from Fabrikam's issuer, the ID token is
    Contoso's: one of them is not the provider this browser was sent to (a mix-up)."""
    entra.claims = {"iss": f"{entra.issuer}/{CONTOSO}/v2.0", "tid": CONTOSO}
    params = start(client)
    mixed = {"code": "c", "state": params["state"], "iss": f"{entra.issuer}/{FABRIKAM}/v2.0"}
    assert_failed(client.get(CALLBACK, mixed), "issuer_mismatch", client)


def test_an_rfc9207_iss_of_a_tenant_the_portal_does_not_admit_is_refused(
    client: Client, entra: Any, settings: Any
) -> None:
    configure(settings, entra, CONTOSO)
    entra.claims = {"iss": f"{entra.issuer}/{CONTOSO}/v2.0", "tid": CONTOSO}
    params = start(client)
    other = {"code": "c", "state": params["state"], "iss": f"{entra.issuer}/{FABRIKAM}/v2.0"}
    assert_failed(client.get(CALLBACK, other), "issuer_mismatch", client)
    assert entra.token_requests == []  # refused before the code was spent


@pytest.mark.parametrize(
    ("template", "configured"),
    [
        ("http://{{tenantid}}.{host}/v2.0", "http://common.{host}/v2.0"),  # in the host
        ("{base}/x{{tenantid}}/v2.0", "{base}/xcommon/v2.0"),  # part of a segment
        ("{base}/{{tenantid}}/v2.0/{{tenantid}}", "{base}/common/v2.0/{{tenantid}}"),  # twice
    ],
)
def test_a_template_whose_tenant_is_not_one_whole_path_segment_is_refused(
    client: Client, entra: Any, settings: Any, template: str, configured: str
) -> None:
    host = entra.issuer.split("://", 1)[1]
    entra.discovery_overrides = {"issuer": template.format(base=entra.issuer, host=host)}
    app = settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"][0]
    app["settings"] = {
        **app["settings"],
        "expected_issuer": configured.format(base=entra.issuer, host=host),
    }
    response = client.post(f"{LOGIN}?process=login")
    assert_failed(response, "issuer_mismatch", client)
