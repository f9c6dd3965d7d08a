"""The portal's own middleware: health probes, the real client address, request ids and
one log line per request, and the idle session timeout."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.cache import patch_cache_control
from django.utils.functional import empty

from portal import views
from portal.lib import apiproblem, proxies, requestlog

logger = logging.getLogger(__name__)
access_log = logging.getLogger("portal.request")

# META key: the connection came from a proxy in TRUSTED_PROXIES (its headers are believed).
PEER_TRUSTED = "portal.peer_trusted"

Handler = Callable[[HttpRequest], HttpResponse]

HEALTH_VIEWS: dict[str, Handler] = {
    "/health/": views.health_ready,
    "/health/live": views.health_live,
    "/health/ready": views.health_ready,
    # Spelled as Django's own URLs are: by IP address this was the host check's 400.
    "/health/live/": views.health_live,
    "/health/ready/": views.health_ready,
}


class HealthMiddleware:
    """Answers the health endpoints first, before anything that could refuse a probe.

    A load balancer probes each process by IP address over plain HTTP: Host 10.1.2.3:8000
    fails ALLOWED_HOSTS (400) and SECURE_SSL_REDIRECT answers 301, so the probe must not
    reach SecurityMiddleware or CommonMiddleware. Never an HTML error page either: an
    unexpected failure is a JSON 503.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = HEALTH_VIEWS.get(request.path_info)
        if view is None:
            return self.get_response(request)
        try:
            response = view(request)
            if request.method == "HEAD":  # the status and headers of a GET, never a body
                response.content = b""
            return response
        except Exception:
            logger.exception("health endpoint %s failed", request.path_info)
            return JsonResponse({"status": "unavailable"}, status=503)


class NullCharacterMiddleware:
    """400 for a NUL character in the path, the query, a cookie or a url-encoded form.

    PostgreSQL text cannot hold one: read raw by a view (a version label, a provider id, an
    OAuth client id, the session cookie) and put in a query, it raised DataError, a 500 for
    anyone; SQLite took it. Forms refuse NUL field by field; this covers the rest. Multipart
    bodies are left to their forms: parsing one here would leave `request.body` unreadable.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _holds_nul(request):
            if apiproblem.is_api(request):
                return apiproblem.problem(400, "The request contains a NUL character.")
            from identity import endpoints

            if endpoints.is_machine_endpoint(request):
                return endpoints.refused_before_the_view("The request contains a NUL character.")
            return HttpResponseBadRequest(
                "The request contains a NUL character.", content_type="text/plain"
            )
        return self.get_response(request)


def _holds_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path_info:
        return True
    texts = [*request.COOKIES.values()]
    sources = [request.GET]
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        sources.append(request.POST)
    for source in sources:
        for key, values in source.lists():
            texts += [key, *values]
    return any("\x00" in text for text in texts)


class TrustedProxyMiddleware:
    """REMOTE_ADDR becomes the real client, and X-Forwarded-Proto is kept only from a proxy
    in TRUSTED_PROXIES (SECURITY.md case 81).

    Everything downstream (login limits, logs, SECURE_PROXY_SSL_HEADER) then reads the
    ordinary META keys: a header sent straight from an untrusted address changes nothing.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        trusted = proxies.trusted_networks(tuple(settings.TRUSTED_PROXIES))
        if trusted:
            peer = str(meta.get("REMOTE_ADDR", ""))
            meta[PEER_TRUSTED] = proxies.is_trusted(peer, trusted)
            meta["REMOTE_ADDR"] = proxies.client_address(
                peer, meta.get("HTTP_X_FORWARDED_FOR"), trusted
            )
            scheme = proxies.forwarded_scheme(peer, meta.get("HTTP_X_FORWARDED_PROTO"), trusted)
            if scheme:
                meta["HTTP_X_FORWARDED_PROTO"] = scheme
            else:
                meta.pop("HTTP_X_FORWARDED_PROTO", None)
        return self.get_response(request)


class RequestLogMiddleware:
    """One log line per request (method, path without the query string, status, time,
    user id, request id) and the X-Request-ID header on every response.

    The id comes from X-Request-ID when a proxy in TRUSTED_PROXIES sent it, else it is new;
    a client cannot choose the id other log lines are filed under.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.monotonic()
        from_proxy = request.META.get(PEER_TRUSTED, False)
        rid = requestlog.accept(request.META.get("HTTP_X_REQUEST_ID") if from_proxy else None)
        request.request_id = rid  # type: ignore[attr-defined]
        token = requestlog.bind(rid)
        try:
            response = self.get_response(request)
        finally:
            requestlog.unbind(token)
        response[requestlog.HEADER] = rid
        elapsed = round((time.monotonic() - started) * 1000, 1)
        user_id = _user_id(request)
        access_log.info(
            "%s %s %s %sms user=%s rid=%s",
            request.method,
            request.path,
            response.status_code,
            elapsed,
            user_id or "-",
            rid,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "ms": elapsed,
                "user_id": user_id,
                "request_id": rid,
            },
        )
        return response


def _user_id(request: HttpRequest) -> int | None:
    """The signed-in user's id, without loading the session just to log it."""
    user = request.__dict__.get("user")
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    return user.pk if user.is_authenticated else None


IDLE_KEY = "_portal_last_seen"
STARTED_KEY = "_portal_started"
# Least seconds between two writes of the idle timestamp: not a database write per request.
TOUCH_EVERY = 60


class SessionTimeoutMiddleware:
    """Ends a session idle for SESSION_IDLE_TIMEOUT seconds, or older than SESSION_COOKIE_AGE
    whatever its activity. Sessions hold OAuth tokens: an abandoned browser must not keep
    them for weeks. Sits between SessionMiddleware and AuthenticationMiddleware, so the
    request of an ended session is already anonymous."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        # Only a session with data: a stale or forged cookie loads as empty and must not be
        # turned into a new session row by the stamps below.
        if session.session_key is not None and session.items():
            now = int(time.time())
            started = int(session.get(STARTED_KEY, now))
            last_seen = int(session.get(IDLE_KEY, now))
            if (
                now - last_seen > settings.SESSION_IDLE_TIMEOUT
                or now - started > settings.SESSION_COOKIE_AGE
            ):
                session.flush()
            else:
                if STARTED_KEY not in session:
                    session[STARTED_KEY] = now
                if IDLE_KEY not in session or now - last_seen >= TOUCH_EVERY:
                    session[IDLE_KEY] = now
        return self.get_response(request)


class PrivateWhenSignedInMiddleware:
    """A signed-in user's page is `Cache-Control: private` unless its view said otherwise.

    Every such page names the user, and the catalog, API and product pages show what only the
    user's groups (or a draft viewer) may see (SECURITY.md case 67). They carried no
    Cache-Control, only Vary: Cookie, which shared caches in front of a portal often ignore
    for HTML. Anonymous pages are the same for everyone and are left alone. After
    AuthenticationMiddleware, which sets `request.user`."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        # Not read while answering (the lazy user never loaded): the page is no one's, and
        # reading it now would load the session for nothing.
        if (
            user is not None
            and getattr(user, "_wrapped", None) is not empty
            and getattr(user, "is_authenticated", False)
            and not response.has_header("Cache-Control")
        ):
            patch_cache_control(response, private=True)
        return response


class DebugNotFoundMiddleware:
    """With DEBUG on (`make run`), a 404 is the portal's own page, as in production.

    Django answers Http404 under DEBUG with its technical page (yellow, every URL pattern
    listed) whatever handler404 says, and no hook runs before it for an unresolved path: a
    new user following a stale link or a hidden API's URL met a page that looked broken. Last
    in MIDDLEWARE, so the page it renders passes every other middleware (CSP, sessions)."""

    # Django's technical 404 page says so; nothing else marks its response.
    _TECHNICAL = b"because you have <code>DEBUG = True</code>"

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 404
            and settings.DEBUG
            and not response.streaming
            and self._TECHNICAL in response.content
        ):
            return views.not_found(request)
        return response
