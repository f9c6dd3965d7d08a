"""`manage.py applyconfig` with `groups:` and `products:` sections."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apis.models import Api
from products.models import Group, Product

pytestmark = pytest.mark.django_db

CONFIG = """\
groups:
  - slug: partners
    name: Partner developers
    claims: [partner, 5d3c6a2e-0000-4000-8000-000000000001]
products:
  - slug: partner-deal
    name: Partner deal
    description: For **partners**.
    published: true
    approval-required: true
    subscriptions-limit: 1
    terms: No resale.
    groups: [partners, administrators]
    apis: [echo]
    rate-limit: {calls: 100, period: 60}
    quota: {calls: 10000, period: 86400}
"""


def apply(tmp_path: Path, text: str) -> str:
    path = tmp_path / "portal.yaml"
    path.write_text(text)
    out = io.StringIO()
    call_command("applyconfig", str(path), stdout=out)
    return out.getvalue()


def test_apply_creates_then_changes_nothing(tmp_path: Path, echo: Api) -> None:
    first = apply(tmp_path, CONFIG)
    assert "group partners: added" in first and "product partner-deal: added" in first
    product = Product.objects.get(slug="partner-deal")
    assert product.approval_required and product.subscriptions_limit == 1
    assert (product.rate_limit_calls, product.quota_calls) == (100, 10000)
    assert {g.slug for g in product.groups.all()} == {"partners", "administrators"}
    assert [a.slug for a in product.apis.all()] == ["echo"]
    assert Group.objects.get(slug="partners").claim_values[0] == "partner"
    assert apply(tmp_path, CONFIG).strip() == "Nothing to change."


def test_a_change_is_reported(tmp_path: Path, echo: Api) -> None:
    apply(tmp_path, CONFIG)
    out = apply(tmp_path, CONFIG.replace("published: true", "published: false"))
    assert "product partner-deal: updated (published)" in out
    assert not Product.objects.get(slug="partner-deal").published


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("apis: [echo]", "apis: [nope]"), ":14: the API 'nope' does not exist"),
        (
            ("groups: [partners, administrators]", "groups: [ghosts]"),
            ":13: the group 'ghosts' does not exist",
        ),
        (("slug: partners", "slug: guests"), "guests is a built-in group"),
        # A look-alike of a built-in group: products offered to `Administrators` read as
        # offered to the administrators, while the claim makes anyone a member.
        (("slug: partners", "slug: Administrators"), "Administrators is a built-in group"),
        (("calls: 100", "calls: 0"), "calls must be at least 1 (in products[0].rate-limit.calls)"),
        (
            ("approval-required: true", "approval-required: maybe"),
            "approval-required must be true or false",
        ),
        (("terms:", "colour:"), "unknown key 'colour'"),
        # The name is the subject of every e-mail about the product's subscriptions: with a
        # line break, Django refuses each one and administrators never hear of a request.
        (
            ("name: Partner deal", 'name: "Partner deal\\nBcc: all@example.com"'),
            ":7: name: A name cannot hold a line break.",
        ),
        (("quota: {calls: 10000, ", "quota: {"), "quota needs calls, kilobytes or both"),
        (("period: 86400}", "kilobytes: 0}"), "kilobytes must be at least 1"),
        # Past the database's integer: OverflowError (SQLite) or DataError (PostgreSQL), a
        # traceback rather than the line.
        (("calls: 100", "calls: 99999999999999999999"), "(in products[0].rate-limit.calls)"),
        (("period: 60", "period: 2147483648"), "(in products[0].rate-limit.period)"),
        (("subscriptions-limit: 1", "subscriptions-limit: 2147483648"), "subscriptions-limit"),
        (("period: 86400}", "kilobytes: 2147483648}"), "(in products[0].quota.kilobytes)"),
        (
            ("period: 86400}\n", "period: 86400}\n  - {slug: partner-deal, name: Again}\n"),
            ":17: the product 'partner-deal' is declared twice",
        ),
    ],
)
def test_an_invalid_file_changes_nothing(
    tmp_path: Path, echo: Api, change: tuple[str, str], message: str
) -> None:
    with pytest.raises(CommandError) as caught:
        apply(tmp_path, CONFIG.replace(*change))
    assert message in str(caught.value)
    assert not Product.objects.filter(slug="partner-deal").exists()
    assert not Group.objects.filter(slug="partners").exists()


def test_a_quota_of_kilobytes_beside_or_instead_of_calls(tmp_path: Path, echo: Api) -> None:
    apply(
        tmp_path, CONFIG.replace("quota: {calls: 10000,", "quota: {calls: 10000, kilobytes: 2048,")
    )
    product = Product.objects.get(slug="partner-deal")
    assert (product.quota_calls, product.quota_kilobytes, product.quota_period) == (
        10000, 2048, 86400,
    )  # fmt: skip
    out = apply(tmp_path, CONFIG.replace("quota: {calls: 10000,", "quota: {kilobytes: 512,"))
    assert "updated (quota_calls, quota_kilobytes)" in out
    product.refresh_from_db()
    assert (product.quota_calls, product.quota_kilobytes) == (None, 512)
    assert product.limits == ["100 calls per minute", "quota: 512 KB per day"]


def test_api_scopes_set_a_read_only_subset(tmp_path: Path, echo: Api) -> None:
    config = CONFIG.replace(
        "    apis: [echo]\n", "    apis: [echo]\n    api-scopes: {echo: [echo.read]}\n"
    )
    apply(tmp_path, config)
    assert Product.objects.get(slug="partner-deal").api_scopes == {"echo": ["echo.read"]}
    assert apply(tmp_path, config).strip() == "Nothing to change."


@pytest.mark.parametrize(
    ("scopes", "message"),
    [
        ("{petstore: [petstore.read]}", "'petstore' is not one of the product's apis"),
        ("{echo: [echo.admin]}", "defines no scope 'echo.admin'"),
    ],
)
def test_api_scopes_outside_the_product_or_the_spec_are_refused(
    tmp_path: Path, echo: Api, scopes: str, message: str
) -> None:
    config = CONFIG.replace("    apis: [echo]\n", f"    apis: [echo]\n    api-scopes: {scopes}\n")
    with pytest.raises(CommandError, match=message):
        apply(tmp_path, config)
    assert not Product.objects.filter(slug="partner-deal").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("name: Partner deal", "name: " + "x" * 201), ":7: name"),
        (("name: Partner deal", "name: '   '"), ":7: name"),
        (("slug: partner-deal", "slug: " + "p" * 101), ":6: slug"),
        (("name: Partner developers", "name: " + "g" * 201), ":3: name"),
        (("name: Partner developers", "name: ' '"), ":3: name"),
        (("slug: partners", "slug: " + "q" * 101), ":2: slug"),
    ],
)
def test_the_file_refuses_a_name_or_slug_the_admin_refuses(
    tmp_path: Path, echo: Api, change: tuple[str, str], message: str
) -> None:
    # The admin's forms refuse a blank name and one past its column (200 characters), and
    # a slug past 100; the file took them (PostgreSQL would then fail mid-apply).
    with pytest.raises(CommandError) as caught:
        apply(tmp_path, CONFIG.replace(*change))
    assert message in str(caught.value)
    assert not Product.objects.filter(name="Partner deal").exists()
    assert not Group.objects.filter(name="Partner developers").exists()


def test_a_product_left_unpublished_warns_that_its_apis_are_hidden_and_closed(
    tmp_path: Path, echo: Api
) -> None:
    """`published` is false unless the file says so; an API in a draft product is no longer
    public (products/visibility.py), so applying one quietly hid and closed its APIs."""
    out = apply(tmp_path, CONFIG.replace("published: true", "published: false"))
    assert "product partner-deal: added" in out
    assert (
        "product partner-deal: warning: it is not published, so echo is hidden from everyone "
        "but drafts' viewers and refused at the gateway" in out
    )
    assert "warning" not in apply(tmp_path, CONFIG)  # published: the warning goes
