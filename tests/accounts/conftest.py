"""The accounts app signs people in at a provider (the built-in one or an external one, such as
tests/accounts/stub_op.py); its tests share the identity tests' users, clients and provider
options."""

from tests.identity.conftest import (  # noqa: F401
    _clean_cache,
    _fast_hashing,
    _loopback_http,
    app,
    client_factory,
    portal_signin,
    published_apis,
    signed_in,
    stub_op,
    user_factory,
)
