"""Settings for the API developer portal, read from the environment.

Every variable is listed in `.env.example`. Unset means the embedded default: SQLite,
local-memory cache, the built-in identity provider and gateway, DEBUG off.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.conf import global_settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from accounts.providers import ProviderConfigError, external_providers_from_env
from portal.lib.env import env_bool, env_int, env_list, env_secret, env_str
from portal.lib.proxies import parse_networks

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    """SECRET_KEY (or SECRET_KEY_FILE) from the environment; else a stand-in.

    With DEBUG on, a generated key kept in an ignored file keeps `make run` zero-configuration.
    With DEBUG off, a random key for this process only, so tooling (tests, migrate,
    collectstatic at build time) runs; the serving entry points refuse to start on it
    (portal/startup.py), and the `portal.E001` deploy check names it. Never a file per
    machine in production: replicas would sign sessions with different keys.
    """
    key = env_secret("SECRET_KEY")
    if key:
        return key
    if not DEBUG:
        return secrets.token_urlsafe(50)
    path = BASE_DIR / ".secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
SECRET_KEY_FROM_ENV = bool(env_secret("SECRET_KEY"))

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
ALLOWED_HOSTS_FROM_ENV = bool(env_list("ALLOWED_HOSTS"))  # portal.W003 otherwise, DEBUG off
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# A refused form: the portal's page saying what to do, not Django's "CSRF verification failed".
CSRF_FAILURE_VIEW = "portal.views.csrf_failure"

SITE_NAME = env_str("SITE_NAME", "API Portal")
SITE_LOGO_URL = env_str("SITE_LOGO_URL")


def _local_origin() -> str:
    """http://HOST:PORT as a URL this machine can call: a wildcard listen address (0.0.0.0,
    ::) is loopback, an IPv6 address in brackets ('http://:::8000' was no URL)."""
    host = env_str("HOST", "127.0.0.1")
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "[::]": "::1"}.get(host, host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{env_str('PORT', '8000')}"


# The portal's public address, for links in e-mails, which have no request to take it from.
# Empty (production default): the mails give paths only.
SITE_URL = env_str("SITE_URL", _local_origin() if DEBUG else "").rstrip("/")


def _origin_of(url: str) -> list[str]:
    parts = urlsplit(url)
    return [f"{parts.scheme}://{parts.netloc}"] if parts.scheme == "https" and parts.netloc else []


INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "portal",
    "apis",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "oauth2_provider",
    "identity",
    "accounts",
    "console",
    "gateway",
    "products",
    "applications",
    "usage",
    "onboarding",
]

MIDDLEWARE = [
    "portal.middleware.HealthMiddleware",  # first: probes skip the host check and SSL redirect
    "portal.middleware.TrustedProxyMiddleware",  # REMOTE_ADDR = the real client
    "portal.middleware.RequestLogMiddleware",  # X-Request-ID, one log line per request
    "django.middleware.security.SecurityMiddleware",
    # Static files: hashed names cached for a year, gzip/brotli variants made at collect time.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # HTML and JSON compressed when the client accepts it. BREACH: Django pads each gzip
    # stream with random bytes and masks the CSRF token per response.
    "django.middleware.gzip.GZipMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "portal.middleware.NullCharacterMiddleware",  # before anything queries with raw text
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.SessionTimeoutMiddleware",  # idle and absolute session limits
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.PrivateWhenSignedInMiddleware",  # a signed-in user's page: private
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.middleware.DebugNotFoundMiddleware",  # last: its 404 page passes all of the above
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.site",
            ],
        },
    },
]


# OPTIONS keys Django's PostgreSQL backend takes itself; the others go to libpq.
_DJANGO_PG_OPTIONS = {"pool", "isolation_level", "server_side_binding", "assume_role"}
_SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def _check_libpq_options(options: dict[str, Any]) -> None:
    """DATABASE_URL's query options as libpq reads them, refused here naming the option
    (never a value but sslmode's): psycopg refused an unknown one at each connection, so
    the portal started and answered 500 to every request."""
    from psycopg import ProgrammingError
    from psycopg.conninfo import make_conninfo

    for key, value in options.items():
        if key in _DJANGO_PG_OPTIONS:
            continue
        try:
            make_conninfo("", **{key: value})
        except ProgrammingError:
            raise ImproperlyConfigured(
                f"DATABASE_URL: the option {key!r} is not a PostgreSQL connection parameter "
                "(https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-PARAMKEYWORDS)"
            ) from None
    sslmode = options.get("sslmode")
    if sslmode is not None and sslmode not in _SSLMODES:
        raise ImproperlyConfigured(
            f"DATABASE_URL: sslmode={sslmode!r} is not one of {', '.join(_SSLMODES)}"
        )


def _databases() -> dict[str, Any]:
    """DATABASE_URL (or DATABASE_URL_FILE: it holds the password), pooled on PostgreSQL.

    A pool per process bounds the connections: without it, every request thread of the
    ASGI server kept its own connection for CONN_MAX_AGE and PostgreSQL ran out of slots
    under load. With the pool CONN_MAX_AGE must be 0 (a connection goes back to the pool at
    the end of each request); a request that finds the pool busy waits DATABASE_POOL_TIMEOUT.
    """
    # Without the blanks around it: 'postgres://.../portal ' named the database "portal ".
    url = env_secret("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}").strip()
    conn_max_age = env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0)
    # Refused here, naming the variable (never its password), rather than as a traceback
    # from the parser or, for a URL without a database name, a 500 on every request.
    shape = "postgres://user:password@host:5432/name (percent-encode @ : / # in the password)"
    try:
        db: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=conn_max_age))
    except dj_database_url.UnknownSchemeError:
        scheme = urlsplit(url).scheme or "(none)"
        raise ImproperlyConfigured(
            f"DATABASE_URL: the scheme {scheme!r} is unknown; write {shape}, or sqlite:///path"
        ) from None
    except (ValueError, dj_database_url.ParseError):
        raise ImproperlyConfigured(f"DATABASE_URL cannot be read; write {shape}") from None
    if not db.get("NAME") and not db.get("OPTIONS", {}).get("service"):
        raise ImproperlyConfigured(f"DATABASE_URL names no database; write {shape}")
    if "@" in str(db.get("NAME") or ""):  # a "/" in an unencoded password ends the host
        raise ImproperlyConfigured(f"DATABASE_URL cannot be read; write {shape}")
    if db["ENGINE"] == "django.db.backends.sqlite3":
        if str(db.get("NAME") or ":memory:").startswith(":memory:") or "mode=memory" in str(
            db.get("NAME")
        ):
            # Each connection would have its own empty database ("no such table").
            raise ImproperlyConfigured(
                "DATABASE_URL names a SQLite database in memory, which no two connections "
                "share; write sqlite:////absolute/path/db.sqlite3"
            )
        options = db.setdefault("OPTIONS", {})
        # The file has several writers (the portal's requests and the in-process gateway's usage
        # recorder). A deferred transaction that reads and then writes is refused at once when
        # another writer committed in between, whatever the timeout ("database is locked": a
        # failed sign-in). IMMEDIATE takes the write lock at BEGIN, where SQLite waits up to
        # `timeout` seconds for it instead.
        options.setdefault("transaction_mode", "IMMEDIATE")
        options.setdefault("timeout", env_int("DATABASE_SQLITE_TIMEOUT", 20, minimum=1))
    if db["ENGINE"] == "django.db.backends.postgresql":
        options = db.setdefault("OPTIONS", {})
        _check_libpq_options(options)
        # At least 1: libpq reads 0 as "wait for ever", which would undo the fail-fast pool.
        options.setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 2, minimum=1))
        if env_bool("DATABASE_POOL", True):
            from psycopg_pool import ConnectionPool

            # Django's backend with a pool that fails at once while PostgreSQL is down,
            # instead of keeping each request waiting DATABASE_POOL_TIMEOUT (SECURITY case 83).
            db["ENGINE"] = "portal.lib.postgresql"
            db["CONN_MAX_AGE"] = 0
            options["pool"] = {
                # A connection the server dropped (restart, failover) is replaced at checkout
                # instead of failing the request that drew it.
                "check": ConnectionPool.check_connection,
                # Reconnection backs off exponentially; giving up after 5 s lets the next
                # request start afresh, so the portal is back within seconds of PostgreSQL.
                "reconnect_timeout": 5,
                "min_size": env_int("DATABASE_POOL_MIN_SIZE", 1, minimum=0),
                "max_size": env_int("DATABASE_POOL_MAX_SIZE", 8, minimum=1),
                "timeout": env_int("DATABASE_POOL_TIMEOUT", 10, minimum=1),
            }
            # psycopg_pool refuses this only when the first request opens the pool.
            if options["pool"]["min_size"] > options["pool"]["max_size"]:
                raise ImproperlyConfigured(
                    f"DATABASE_POOL_MIN_SIZE={str(options['pool']['min_size'])!r} is above "
                    f"DATABASE_POOL_MAX_SIZE ({options['pool']['max_size']})"
                )
    return {"default": db}


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The one Redis for every shared cache and counter (the portal's cache here; the gateway
# reads it too unless GATEWAY_REDIS_URL overrides).
REDIS_URL = env_secret("REDIS_URL").strip()
# Seconds to connect to Redis and to wait for an answer: short, so a Redis outage costs a
# request little before the cache falls back to local memory (portal/lib/cache.py).
REDIS_TIMEOUT = env_int("REDIS_TIMEOUT", 1, minimum=1)
CACHES: dict[str, dict[str, Any]] = {
    "default": (
        {
            "BACKEND": "portal.lib.cache.TolerantRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "portal"}
    )
}
# Seconds the cache serves from local memory after a Redis error before it tries Redis again,
# and least seconds between two warnings about it.
CACHE_REDIS_RETRY = env_int("CACHE_REDIS_RETRY", 5, minimum=1)
CACHE_REDIS_WARN_INTERVAL = env_int("CACHE_REDIS_WARN_INTERVAL", 60, minimum=1)

# Sessions hold OAuth tokens on the server: database-backed, never signed cookies.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# A session ends after SESSION_COOKIE_AGE seconds whatever its use, or after
# SESSION_IDLE_TIMEOUT seconds without a request (portal.middleware.SessionTimeoutMiddleware).
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 24 * 3600, minimum=60)
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_TIMEOUT", 8 * 3600, minimum=60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Where `collectstatic` (run once at build time) puts the files WhiteNoise serves with DEBUG
# off. Read-only at run time; nothing is written there when the portal starts.
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "portal.lib.staticstorage.StaticStorage"},
}

# Security headers (SECURITY.md case 59). HSTS only matters over https; it is harmless on
# loopback because browsers ignore it on plain http.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# Proxies (CIDR ranges, comma-separated) whose X-Forwarded-For and X-Forwarded-Proto are
# believed (portal.middleware.TrustedProxyMiddleware): the login limits and the logs see the
# real client. Empty: nobody's, every address is the connecting one.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
try:
    _proxy_networks = parse_networks(TRUSTED_PROXIES)
except ValueError as exc:
    raise ImproperlyConfigured(f"TRUSTED_PROXIES: {exc}") from None
for _network in _proxy_networks:
    # Every client then counts as a proxy, and X-Forwarded-For's leftmost entry, which the
    # client writes, becomes its address.
    if _network.prefixlen == 0:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES: {str(_network)!r} trusts every address, so any client could "
            "choose the address the login limits and the gateway's per-address keys count by "
            "writing X-Forwarded-For; give the load balancers' addresses or ranges only"
        )
# X-Forwarded-Proto: only from TRUSTED_PROXIES when set (the middleware drops it from anyone
# else); BEHIND_TLS_PROXY=1 alone believes it from any client, for a portal reachable only
# through its proxy.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https")
    if TRUSTED_PROXIES or env_bool("BEHIND_TLS_PROXY", False)
    else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],  # the API page's inline styles (inline_static)
    # A logo on another origin (SITE_LOGO_URL) is the only remote image a page may load.
    "img-src": [CSP.SELF, "data:", *_origin_of(SITE_LOGO_URL)],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}

LOGIN_URL = "/accounts/login/"

# --- Sign-in (accounts/, django-allauth) -------------------------------------------------
# External OpenID providers from OIDC_* (see accounts/providers.py and .env.example).
try:
    OIDC_PROVIDERS = external_providers_from_env()
except ProviderConfigError as exc:  # one line naming the variable, not a traceback
    raise ImproperlyConfigured(str(exc)) from None
AUTHENTICATION_BACKENDS = [
    "identity.backends.RateLimitedModelBackend",  # ModelBackend with failed-login limits
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_REDIRECT_URL = "/"
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_ONLY = True  # no local passwords on the portal: sign-in is OpenID Connect
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["email", "username*"]
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
SOCIALACCOUNT_LOGIN_ON_GET = False  # case 58: only a POST leaves for the provider
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_STORE_TOKENS = False
# A provider with LINK_BY_VERIFIED_EMAIL (accounts/providers.py) signs a verified address into
# the account that has it, and that account keeps the link (found by subject from then on).
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_REQUESTS_TIMEOUT = env_int("OIDC_TIMEOUT", 5, minimum=1)
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {"OAUTH_PKCE_ENABLED": True, "APPS": OIDC_PROVIDERS},
}
ACCOUNTS_CLOCK_SKEW = env_int("OIDC_CLOCK_SKEW", 60, minimum=0)
# Seconds an external provider's checked discovery document and key set are kept (shared
# cache); an ID token naming a key the kept set lacks refetches the set.
ACCOUNTS_METADATA_TTL = env_int("OIDC_METADATA_TTL", 3600, minimum=0)
# At most one such refetch per key set in this many seconds: a provider whose tokens name a
# key it does not publish costs one fetch, not one per sign-in.
ACCOUNTS_JWKS_REFETCH_INTERVAL = 60

# --- The built-in OpenID provider (identity/, django-oauth-toolkit) ----------------------
# On when no external provider is configured; IDENTITY_BUILTIN=1 keeps it on beside one.
IDENTITY_BUILTIN = env_bool("IDENTITY_BUILTIN", not OIDC_PROVIDERS)
IDENTITY_ISSUER = env_str(
    "IDENTITY_ISSUER",
    f"{_local_origin()}/idp" if DEBUG else "",
).rstrip("/")
# form-action (issue 10): forms post to this site only, whose sign-in button then redirects to
# a provider, which the browser checks against form-action too. http only for loopback.
SECURE_CSP["form-action"] = [
    CSP.SELF,
    *dict.fromkeys(
        f"{parts.scheme}://{parts.netloc}"
        for url in [*(p["settings"].get("server_url", "") for p in OIDC_PROVIDERS), IDENTITY_ISSUER]
        if (parts := urlsplit(url)).netloc
        and (parts.scheme == "https" or parts.hostname in ("127.0.0.1", "localhost", "::1"))
    ),
]
IDENTITY_PORTAL_PROVIDER_ID = env_str(
    "IDENTITY_PORTAL_PROVIDER_ID", "builtin" if OIDC_PROVIDERS else "oidc"
)
IDENTITY_PORTAL_PROVIDER_NAME = env_str("IDENTITY_PORTAL_PROVIDER_NAME", f"{SITE_NAME} account")
IDENTITY_PORTAL_CLIENT_ID = env_str("IDENTITY_PORTAL_CLIENT_ID", "portal-signin")
# Clients set up by an administrator (not developers' applications) that may get the `portal`
# scope of /api/v1/. A developer's own application gets it with client credentials only.
IDENTITY_PORTAL_SCOPE_CLIENTS = env_list("IDENTITY_PORTAL_SCOPE_CLIENTS")
IDENTITY_PORTAL_CLIENT_SECRET = env_secret(
    "IDENTITY_PORTAL_CLIENT_SECRET", "portal-signin-demo-secret" if DEBUG else ""
)
IDENTITY_CONSOLE_REDIRECT_PATH = env_str("IDENTITY_CONSOLE_REDIRECT_PATH", "/console/callback/")
IDENTITY_KEY_GRACE_SECONDS = env_int("IDENTITY_KEY_GRACE_SECONDS", 300, minimum=0)
# Failed sign-ins on the built-in provider (case 57), counted on the shared cache.
IDENTITY_LOGIN_FAILURES_PER_IP = env_int("IDENTITY_LOGIN_FAILURES_PER_IP", 10, minimum=1)
IDENTITY_LOGIN_IP_PERIOD = env_int("IDENTITY_LOGIN_IP_PERIOD", 60, minimum=1)
IDENTITY_LOGIN_FAILURES_PER_ACCOUNT = env_int("IDENTITY_LOGIN_FAILURES_PER_ACCOUNT", 5, minimum=1)
IDENTITY_LOGIN_ACCOUNT_PERIOD = env_int("IDENTITY_LOGIN_ACCOUNT_PERIOD", 300, minimum=1)
# FAILURES_PER_ACCOUNT blocks an account from one address only; past ACCOUNT_SLOW_AFTER
# failures from anywhere, each attempt on the account waits SLOW_SECONDS (never refused).
IDENTITY_LOGIN_ACCOUNT_SLOW_AFTER = env_int("IDENTITY_LOGIN_ACCOUNT_SLOW_AFTER", 20, minimum=1)
IDENTITY_LOGIN_SLOW_SECONDS = env_int("IDENTITY_LOGIN_SLOW_SECONDS", 1, minimum=0)
# Failed client authentications at /idp/token/, /idp/revoke/, /idp/introspect/ (429 past these).
IDENTITY_CLIENT_AUTH_FAILURES_PER_IP = env_int(
    "IDENTITY_CLIENT_AUTH_FAILURES_PER_IP", 20, minimum=1
)
IDENTITY_CLIENT_AUTH_FAILURES_PER_CLIENT = env_int(
    "IDENTITY_CLIENT_AUTH_FAILURES_PER_CLIENT", 10, minimum=1
)
IDENTITY_CLIENT_AUTH_FAILURES_PER_CLIENT_ANYWHERE = env_int(
    "IDENTITY_CLIENT_AUTH_FAILURES_PER_CLIENT_ANYWHERE", 100, minimum=1
)
IDENTITY_CLIENT_AUTH_PERIOD = env_int("IDENTITY_CLIENT_AUTH_PERIOD", 60, minimum=1)
# RFC 9700 discourages implicit and password: refused outright unless this is on, and then
# only for clients an admin switched them on for (identity.Client). On in the dev run.
IDENTITY_LEGACY_GRANTS = env_bool("IDENTITY_LEGACY_GRANTS", DEBUG)
# Plain-http redirect URIs, loopback only (RFC 8252), for a dev box. On in the dev run.
IDENTITY_LOOPBACK_HTTP = env_bool("IDENTITY_LOOPBACK_HTTP", DEBUG)
OAUTH2_PROVIDER_APPLICATION_MODEL = "identity.Client"
# People's passwords keep Django's default hasher; client secrets (long and random) use a
# cheap one so a token request does not spend a second in PBKDF2 (identity/hashers.py).
PASSWORD_HASHERS = [*global_settings.PASSWORD_HASHERS, "identity.hashers.ClientSecretHasher"]
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "CLIENT_SECRET_HASHER": "pbkdf2_sha256_client_secret",
    "OIDC_ISS_ENDPOINT": IDENTITY_ISSUER,  # empty: derived from the request's host
    "OAUTH2_VALIDATOR_CLASS": "identity.validators.Validator",
    "SCOPES_BACKEND_CLASS": "identity.scopes.Scopes",
    "SCOPES": {"openid": "OpenID Connect", "profile": "Profile", "email": "Email"},
    "DEFAULT_SCOPES": ["openid"],
    "ACCESS_TOKEN_GENERATOR": "identity.tokens.generate_access_token",
    "REFRESH_TOKEN_GENERATOR": "oauthlib.oauth2.rfc6749.tokens.random_token_generator",
    "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("IDENTITY_ACCESS_TOKEN_SECONDS", 3600, minimum=1),
    "ID_TOKEN_EXPIRE_SECONDS": env_int("IDENTITY_ID_TOKEN_SECONDS", 3600, minimum=1),
    "REFRESH_TOKEN_EXPIRE_SECONDS": env_int(
        "IDENTITY_REFRESH_TOKEN_SECONDS", 14 * 24 * 3600, minimum=1
    ),
    "ROTATE_REFRESH_TOKEN": True,
    "PKCE_REQUIRED": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,  # S256 only
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,  # RFC 9207 iss in the response
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,  # never ?access_token=
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,  # only hashes of tokens in the database
    "REFRESH_TOKEN_REUSE_PROTECTION": True,  # a replayed refresh token revokes its family
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": not IDENTITY_LEGACY_GRANTS,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": not IDENTITY_LEGACY_GRANTS,
    # http only to loopback hosts (identity.Client), and only when IDENTITY_LOOPBACK_HTTP.
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"] if IDENTITY_LOOPBACK_HTTP else ["https"],
    "ALLOWED_SCHEMES": ["https", "http"] if IDENTITY_LOOPBACK_HTTP else ["https"],
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "REQUEST_APPROVAL_PROMPT": "auto",
}

# Spec import limits (SECURITY.md cases 33 to 38).
APIS_MAX_SPEC_BYTES = env_int("APIS_MAX_SPEC_BYTES", 32 * 1024 * 1024, minimum=1)
APIS_MAX_NODES = env_int("APIS_MAX_NODES", 3_000_000, minimum=1)
APIS_MAX_DEPTH = env_int("APIS_MAX_DEPTH", 200, minimum=1)
APIS_MAX_BUNDLE_FILES = env_int("APIS_MAX_BUNDLE_FILES", 10_000, minimum=1)
APIS_MAX_IMPORT_SECONDS = env_int("APIS_MAX_IMPORT_SECONDS", 60, minimum=1)
APIS_MAX_ZIP_RATIO = env_int("APIS_MAX_ZIP_RATIO", 100, minimum=1)
APIS_PAGE_SIZE = env_int("APIS_PAGE_SIZE", 24, minimum=1)

# Outbound HTTP (portal/lib/outbound.py): host:port pairs on loopback or private ranges that the
# configuration explicitly allows (for example the built-in gateway).
OUTBOUND_ALLOWED_PRIVATE_HOSTS = env_list("OUTBOUND_ALLOWED_PRIVATE_HOSTS")

# --- Try-it console (console/) --------------------------------------------------------
# Where the console sends calls: the gateway's base URL (never derived from the request).
CONSOLE_GATEWAY_URL = env_str(
    "CONSOLE_GATEWAY_URL",
    f"{_local_origin()}/gateway",
).rstrip("/")
# Other origins whose spec `servers` the console may call (scheme://host[:port], comma-separated).
CONSOLE_ALLOWED_ORIGINS = env_list("CONSOLE_ALLOWED_ORIGINS")
CONSOLE_CONNECT_TIMEOUT = env_int("CONSOLE_CONNECT_TIMEOUT", 3, minimum=1)
CONSOLE_READ_TIMEOUT = env_int("CONSOLE_READ_TIMEOUT", 10, minimum=1)
CONSOLE_MAX_RESPONSE_BYTES = env_int("CONSOLE_MAX_RESPONSE_BYTES", 2 * 1024 * 1024, minimum=1)
CONSOLE_HISTORY_LIMIT = env_int("CONSOLE_HISTORY_LIMIT", 50, minimum=1)
CONSOLE_HISTORY_ENTRY_BYTES = env_int("CONSOLE_HISTORY_ENTRY_BYTES", 64 * 1024, minimum=1024)
# Days a console call stays in a user's history before `manage.py maintain` deletes it.
CONSOLE_HISTORY_RETENTION_DAYS = env_int("CONSOLE_HISTORY_RETENTION_DAYS", 30, minimum=1)
CONSOLE_REFRESH_MARGIN = env_int("CONSOLE_REFRESH_MARGIN", 30, minimum=0)
CONSOLE_DISCOVERY_TTL = env_int("CONSOLE_DISCOVERY_TTL", 3600, minimum=0)

# Gateway (gateway/): validate-jwt key cache, proxy timeouts, config refresh, metrics.
GATEWAY_JWKS_TTL = env_int("GATEWAY_JWKS_TTL", 3600, minimum=1)
GATEWAY_JWKS_REFETCH_COOLDOWN = env_int("GATEWAY_JWKS_REFETCH_COOLDOWN", 300, minimum=0)
GATEWAY_JWKS_RETRY = env_int("GATEWAY_JWKS_RETRY", 5, minimum=1)
GATEWAY_JWKS_TIMEOUT = env_int("GATEWAY_JWKS_TIMEOUT", 5, minimum=1)
GATEWAY_JWKS_MAX_BYTES = env_int("GATEWAY_JWKS_MAX_BYTES", 512 * 1024, minimum=1024)
GATEWAY_KEY_FETCH_PRIVATE_HOSTS = env_list("GATEWAY_KEY_FETCH_PRIVATE_HOSTS")
GATEWAY_CONNECT_TIMEOUT = env_int("GATEWAY_CONNECT_TIMEOUT", 3, minimum=1)
GATEWAY_POOL_IDLE_TIMEOUT = env_int("GATEWAY_POOL_IDLE_TIMEOUT", 30, minimum=1)
GATEWAY_CONFIG_REFRESH = env_int("GATEWAY_CONFIG_REFRESH", 1, minimum=1)
# With Redis: the database fingerprints run this often as well (a bump lost while Redis was
# down), for routes, keys, revoked tokens and subscribed clients alike. It replaces
# GATEWAY_REVOCATIONS_BACKSTOP, still read when this one is not set.
GATEWAY_CONFIG_FULL_CHECK = env_int(
    "GATEWAY_CONFIG_FULL_CHECK", env_int("GATEWAY_REVOCATIONS_BACKSTOP", 30, minimum=1), minimum=1
)
GATEWAY_REALM = env_str("GATEWAY_REALM", "gw")
# Unknown subscription keys one client address may send per period (seconds) before the
# gateway answers 429 (SECURITY.md case 71).
GATEWAY_KEY_FAILURES = env_int("GATEWAY_KEY_FAILURES", 20, minimum=1)
GATEWAY_KEY_FAILURE_PERIOD = env_int("GATEWAY_KEY_FAILURE_PERIOD", 60, minimum=1)
GATEWAY_REDIS_URL = env_secret("GATEWAY_REDIS_URL").strip()
# Host names the gateway answers (ALLOWED_HOSTS syntax); empty: ALLOWED_HOSTS.
GATEWAY_HOSTS = env_list("GATEWAY_HOSTS", [])
# host[:port] clients reach the gateway at, sent to backends as X-Forwarded-Host; empty: the
# client's Host, with its port only when it is the one the gateway listens on.
GATEWAY_PUBLIC_HOST = env_str("GATEWAY_PUBLIC_HOST", "")
# /-/metrics: a bearer token, or client addresses (CIDRs) that may scrape without one.
GATEWAY_METRICS_TOKEN = env_secret("GATEWAY_METRICS_TOKEN")
GATEWAY_METRICS_ALLOW = env_list("GATEWAY_METRICS_ALLOW", [])
try:  # an entry skipped unseen would leave the scraper with 401 and no clue why
    parse_networks(GATEWAY_METRICS_ALLOW)
except ValueError as exc:
    raise ImproperlyConfigured(f"GATEWAY_METRICS_ALLOW: {exc}") from None
GATEWAY_METRICS_ENABLED = env_bool("GATEWAY_METRICS_ENABLED", True)
GATEWAY_ECHO_MAX_BYTES = env_int("GATEWAY_ECHO_MAX_BYTES", 1024 * 1024, minimum=0)
GATEWAY_ACCESS_LOG = env_str("GATEWAY_ACCESS_LOG", "-")
# Usage from the gateway (usage/recorder.py): on/off. By default each gateway process sums
# calls per minute and key and writes the sums every USAGE_FLUSH_MS (ms): one Redis stream
# entry when REDIS_URL carries them, else straight into the rollups. USAGE_BUFFER bounds the
# distinct keys summed between two writes (calls past it are dropped and counted).
# USAGE_RAW_EVENTS writes one raw event per call instead (raw table or stream, per-request
# rows; costs the gateway more): then USAGE_BUFFER bounds the buffered events, USAGE_BATCH is
# the batch size, and USAGE_CLIENT_ADDRESS keeps the client address in raw events as its /24
# or /48 network ("truncate") or not at all ("none"). The Redis stream's bound is in entries
# (one per write): past it new calls are dropped and counted; aggregators trim what they
# acknowledged.
USAGE_RECORDING = env_bool("USAGE_RECORDING", True)
USAGE_RAW_EVENTS = env_bool("USAGE_RAW_EVENTS", False)
USAGE_CLIENT_ADDRESS = env_str("USAGE_CLIENT_ADDRESS", "truncate")
if USAGE_CLIENT_ADDRESS not in ("truncate", "none"):
    raise ImproperlyConfigured(f"USAGE_CLIENT_ADDRESS={USAGE_CLIENT_ADDRESS!r}: truncate or none")
USAGE_BUFFER = env_int("USAGE_BUFFER", 10000, minimum=1)
USAGE_BATCH = env_int("USAGE_BATCH", 500, minimum=1)
USAGE_FLUSH_MS = env_int("USAGE_FLUSH_MS", 1000, minimum=1)
USAGE_STREAM_MAXLEN = env_int("USAGE_STREAM_MAXLEN", 2000, minimum=1)

# LOG_FORMAT=json: one JSON object per line (portal.lib.requestlog.JsonFormatter).
LOG_FORMAT = env_str("LOG_FORMAT", "text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} must be text or json")

# --- Products and subscriptions (products/) ------------------------------------------------
# Fernet keys encrypting the stored copy of subscription keys, newest first (rotation: add a
# new one in front, run `manage.py rotate_subscription_keys`, then drop the old one).
# Comma-separated, or one a line in PRODUCTS_KEY_ENCRYPTION_KEYS_FILE.
PRODUCTS_KEY_ENCRYPTION_KEYS = [
    key.strip()
    for key in env_secret("PRODUCTS_KEY_ENCRYPTION_KEYS").replace("\n", ",").split(",")
    if key.strip()
]
# How many subscriptions one developer may create per hour (shared cache, as applications;
# a request to a product that needs approval mails the administrators).
SUBSCRIPTIONS_CREATE_PER_HOUR = env_int("SUBSCRIPTIONS_CREATE_PER_HOUR", 10, minimum=1)
# How many keys one person may regenerate per hour: each makes every gateway process reload
# its key map.
SUBSCRIPTION_KEYS_REGENERATED_PER_HOUR = env_int(
    "SUBSCRIPTION_KEYS_REGENERATED_PER_HOUR", 20, minimum=1
)
# The sign-in provider's claim listing a user's groups or roles (e.g. groups, roles).
OIDC_GROUPS_CLAIM = env_str("OIDC_GROUPS_CLAIM")
# E-mail (subscription requests and decisions; Django 6.1's MAILERS): SMTP (EMAIL_HOST, by
# default a local MTA on localhost:25), or in the dev run with no EMAIL_HOST one file per
# message in EMAIL_FILE_PATH (default .mail/), so mails do not flood the run's console.
_email_host = env_str("EMAIL_HOST")
# Implicit TLS (SMTPS, port 465) or STARTTLS (587, the default with EMAIL_HOST).
_email_port = env_int("EMAIL_PORT", 0, minimum=1, maximum=65535)
_email_ssl = env_bool("EMAIL_USE_SSL", _email_port == 465)
_email_tls = env_bool("EMAIL_USE_TLS", bool(_email_host) and not _email_ssl)
if _email_ssl and _email_tls:
    raise ImproperlyConfigured(
        "EMAIL_USE_TLS and EMAIL_USE_SSL are both on: SSL for implicit TLS (port 465), TLS "
        "for STARTTLS (587); set one"
    )
MAILERS: dict[str, dict[str, object]] = {
    "default": (
        {
            # Django's file backend, writing links whole (portal/lib/mailfiles.py).
            "BACKEND": "portal.lib.mailfiles.EmailBackend",
            "OPTIONS": {"file_path": env_str("EMAIL_FILE_PATH", str(BASE_DIR / ".mail"))},
        }
        if DEBUG and not _email_host
        else {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _email_host or "localhost",
                "port": _email_port or (465 if _email_ssl else 587 if _email_host else 25),
                "username": env_str("EMAIL_HOST_USER"),
                "password": env_secret("EMAIL_HOST_PASSWORD"),
                "use_tls": _email_tls,
                "use_ssl": _email_ssl,
                "timeout": env_int("EMAIL_TIMEOUT", 10, minimum=1),
            },
        }
    )
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "portal@localhost")
ADMINS = [("", a) for a in env_list("PORTAL_ADMIN_EMAILS")]

# Any case (logging itself knows only upper-case names, and stopped start-up on "info").
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").strip().upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured(
        f"LOG_LEVEL={env_str('LOG_LEVEL')!r} must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(levelname)s %(name)s %(message)s"},
        "json": {"()": "portal.lib.requestlog.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # The request log replaces Django's own lines for 4xx/5xx responses (same facts, twice).
    "loggers": {"django.request": {"level": "ERROR"}},
}

# --- Developer applications (applications/) -----------------------------------------------
# How many applications one developer may register per hour (counted on the shared cache; at
# least 1, as subscriptions: 0 would refuse every registration as over a limit never reached).
APPLICATIONS_CREATE_PER_HOUR = env_int("APPLICATIONS_CREATE_PER_HOUR", 10, minimum=1)
# After a secret rotation the old secret may keep working for at most this many seconds
# (the developer picks how long, 24 h unless changed); 0 makes every rotation immediate.
APPLICATIONS_SECRET_GRACE_MAX = env_int("APPLICATIONS_SECRET_GRACE_MAX", 7 * 24 * 3600, minimum=0)

# --- Usage analytics (usage/) -------------------------------------------------------------
# How long each level is kept (days): raw events (the table written without Redis), then
# rollups per minute, hour and day (usage/retention.py, run by the aggregator). At most a
# century: far more and the cut-off date falls before year 1 (retention failed every run).
USAGE_RETENTION_MOST_DAYS = 36500
USAGE_RETENTION_RAW_DAYS = env_int(
    "USAGE_RETENTION_RAW_DAYS", 2, minimum=1, maximum=USAGE_RETENTION_MOST_DAYS
)
USAGE_RETENTION_MINUTE_DAYS = env_int(
    "USAGE_RETENTION_MINUTE_DAYS", 14, minimum=1, maximum=USAGE_RETENTION_MOST_DAYS
)
USAGE_RETENTION_HOUR_DAYS = env_int(
    "USAGE_RETENTION_HOUR_DAYS", 90, minimum=1, maximum=USAGE_RETENTION_MOST_DAYS
)
USAGE_RETENTION_DAY_DAYS = env_int(
    "USAGE_RETENTION_DAY_DAYS", 730, minimum=1, maximum=USAGE_RETENTION_MOST_DAYS
)
# What deleting a developer does to their usage: "anonymise" (kept in the totals, no longer
# theirs) or "delete" (usage/anonymise.py).
USAGE_ON_USER_DELETE = env_str("USAGE_ON_USER_DELETE", "anonymise")
# Most events per aggregation transaction (a backlog goes in large batches, where one rollup
# row sums many events), and seconds an idle aggregator waits for events.
USAGE_AGGREGATE_BATCH = env_int("USAGE_AGGREGATE_BATCH", 50000, minimum=1)
USAGE_AGGREGATE_WAIT = env_int("USAGE_AGGREGATE_WAIT", 2, minimum=1)
# Zones of the staff who read the reports: the aggregator pre-computes the past days of the
# reports' preset ranges in these (and UTC) every hour, so a first request is quick
# (usage/prefill.py). A 30-day range starts at the viewer's local midnight.
USAGE_PREFILL_ZONES = env_list("USAGE_PREFILL_ZONES", ["UTC"])
