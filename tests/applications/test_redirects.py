"""Redirect URI rules (SECURITY.md case 75)."""

from __future__ import annotations

from typing import Any

import pytest

from applications.redirects import RedirectUriError, check_redirect_uri, parse_redirect_uris


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example/callback",
        "https://app.example:8443/cb?tenant=1",
        "http://127.0.0.1:8765/callback",
        "http://localhost/callback",
        "http://[::1]:9000/cb",
    ],
)
def test_accepted(uri: str, loopback_http: None) -> None:
    assert check_redirect_uri(uri) == uri


@pytest.mark.parametrize("uri", ["http://127.0.0.1:8765/callback", "http://[::1]:9000/cb"])
def test_loopback_http_refused_when_the_provider_refuses_it(uri: str, settings: Any) -> None:
    """IDENTITY_LOOPBACK_HTTP off (production): authorization would refuse to redirect there."""
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    }
    with pytest.raises(RedirectUriError, match="accepts only https redirect URIs"):
        check_redirect_uri(uri)


@pytest.mark.parametrize(
    ("uri", "says"),
    [
        ("https://*.app.example/callback", "wildcard"),
        ("https://app.example/*", "wildcard"),
        ("https://app.example/callback#done", "fragment"),
        ("https://app.example/callback#", "fragment"),
        ("https://user:pw@app.example/callback", "user name or password"),
        ("https://trusted.example@evil.example/cb", "user name or password"),
        ("http://app.example/callback", "plain http is only allowed on loopback"),
        ("http://127.0.0.1.evil.example/cb", "plain http is only allowed on loopback"),
        ("myapp://callback", "https://"),
        ("javascript:alert(1)", "https://"),
        ("https:///callback", "https://"),
        ("/callback", "https://"),
        ("https://app.example:99999/cb", "not a valid URL"),
        ("http://127.0.0.1:65536/cb", "not a valid URL"),
        # Port 0 is no port a browser can be sent to: the application could never sign in.
        ("http://127.0.0.1:0/cb", "port 0"),
        ("https://app.example:0/cb", "port 0"),
        ("http://[::1]:000/cb", "port 0"),
        ("https://app.example/a b", "spaces"),
        # DEL (0x7f) is a control character as much as those below 0x20.
        ("https://app.example/cb?x=\x7f", "control characters"),
        ("https://app.example/\x7fcb", "control characters"),
    ],
)
def test_refused_with_a_message(uri: str, says: str) -> None:
    with pytest.raises(RedirectUriError, match=says):
        check_redirect_uri(uri)


@pytest.mark.parametrize(
    "uri",
    [
        "https://\u0430pi-portal.example/cb",  # a Cyrillic a: the host imitates a Latin one
        "https://app.example/caf\u00e9",
        "https://app.example/cb?lang=\u00e9",
    ],
)
def test_a_uri_that_is_not_ascii_is_refused_with_its_ascii_form(uri: str) -> None:
    """The provider's authorization refuses a redirect URI that is not ASCII ('Invalid
    redirect URI'): one registered was an application no one could sign in to."""
    with pytest.raises(RedirectUriError, match="only ASCII") as refused:
        check_redirect_uri(uri)
    if "pi-portal" in uri:
        assert "xn--pi-portal-zyh.example" in str(refused.value)


@pytest.mark.parametrize(
    "uri",
    [
        "https://evil.example%2Eapp.example/cb",  # the browser decodes it: another host
        "https://app.example;sandbox/cb",  # ';' went into the consent page's CSP header
        "https://app..example/cb",
        "https://-app.example/cb",
        "https://app.example%00/cb",
    ],
)
def test_a_host_that_is_no_host_name_is_refused(uri: str) -> None:
    with pytest.raises(RedirectUriError, match="not a valid host name"):
        check_redirect_uri(uri)


@pytest.mark.parametrize(
    "uri",
    [
        # Browsers read a backslash as a slash: this goes to evil.example, while the consent
        # page named the host 'evil.example\\.app.example' as where the person is sent.
        "https://evil.example\\.app.example/cb",
        "https://app.example/c\\b",
        'https://app.example/cb"onmouseover=x',
        "https://app.example/cb?x=<script>",
        "https://app.example/cb?x={y}",
        "https://app.example/cb?x=a|b",
        "https://app.example/cb?x=^",
        "https://app.example/cb?x=`",
    ],
)
def test_characters_a_uri_never_holds_are_refused(uri: str) -> None:
    """RFC 3986 has no place for them; browsers rewrite or encode each their own way, so the
    URI registered is not the one the person is sent to."""
    with pytest.raises(RedirectUriError, match="may not hold"):
        check_redirect_uri(uri)


@pytest.mark.parametrize(
    "uri", ["https://my_app.internal.example/cb", "https://app.example./cb", "https://10.1.2.3/cb"]
)
def test_host_names_browsers_go_to_are_accepted(uri: str) -> None:
    assert check_redirect_uri(uri) == uri


def test_parse_one_a_line_without_duplicates() -> None:
    text = "https://a.example/cb\n\n  https://b.example/cb \nhttps://a.example/cb\n"
    assert parse_redirect_uris(text) == ["https://a.example/cb", "https://b.example/cb"]


def test_parse_refuses_the_whole_list_for_one_bad_uri() -> None:
    with pytest.raises(RedirectUriError, match="fragment"):
        parse_redirect_uris("https://a.example/cb\nhttps://b.example/cb#x")
