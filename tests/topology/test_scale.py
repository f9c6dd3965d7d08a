"""The tested production topology (docs/deploy.md): PostgreSQL, Redis, two portal processes and
two gateway processes behind nginx, DEBUG off. A user signs in and uses the console through
nginx; the checks are what an operator relies on when scaling out: any process serves any
user, a policy change reaches every gateway, and losing a portal process loses no session.
"""

from __future__ import annotations

import html as htmllib
import re
import time
from collections.abc import Iterator

import pytest
import requests

from tests.console.live import Portal, consent_if_asked, hidden_fields, sign_in
from tests.topology.cluster import (
    PASSWORD,
    SERVICE_CLIENT_ID,
    SERVICE_CLIENT_SECRET,
    USERNAME,
    Topology,
    api_config,
    running_topology,
)

pytestmark = pytest.mark.topology

PAGE = "/apis/echo/operations/echoGet/"
OP = {"api": "echo", "version": "1.0.0", "operation": "echoGet"}
# How long a change may take to reach a gateway: it checks the config version every
# GATEWAY_CONFIG_REFRESH (2 s); this is a ceiling for a slow CI machine, not a measurement.
PROPAGATION_CEILING = 20


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    with running_topology(tmp_path_factory.mktemp("topology")) as top:
        yield top


@pytest.fixture
def browser(topology: Topology) -> requests.Session:
    """A user agent signed in through nginx with the built-in provider's password login."""
    session = requests.Session()
    landed = sign_in(session, _portal(topology), PAGE, USERNAME, PASSWORD)
    assert landed.url == topology.url(PAGE), landed.url
    return session


def _portal(topology: Topology, base: str | None = None) -> Portal:
    return Portal(base=base or topology.portal_base, log=topology.workdir / "portal-1.log")


def signed_in_as(session: requests.Session, url: str) -> str | None:
    """The name in the account menu of the page at `url`, or None when signed out."""
    answer = session.get(url, allow_redirects=False)
    assert answer.status_code == 200, (url, answer.status_code, answer.text[:500])
    found = re.search(r"<summary [^>]*data-account-name>([^<]+)</summary>", answer.text)
    return found.group(1).strip() if found else None


def console_token(session: requests.Session, topology: Topology) -> str:
    """A token through the console with the authorization code flow (the console's shared
    client offers no client credentials), each step through nginx; the selected token's id
    on the page."""
    base = topology.portal_base
    page = session.get(base + PAGE).text
    data = {
        **OP,
        "csrfmiddlewaretoken": hidden_fields(page, 'id="console-form"')["csrfmiddlewaretoken"],
        "grant_choice": "builtin:authorization_code",
        "scopes.builtin": "echo.read",
    }
    start = session.post(base + "/console/token/", data=data, allow_redirects=False)
    assert start.status_code == 302, start.text[:1000]
    authorize = session.get(start.headers["Location"], allow_redirects=False)
    callback = consent_if_asked(session, _portal(topology), authorize)
    back = session.get(callback if "://" in callback else base + callback, allow_redirects=False)
    assert back.status_code == 302, back.text[:1000]
    page = session.get(base + PAGE).text
    found = re.search(r'<input type="radio" name="token" value="([^"]+)" checked>', page)
    assert found, "no token is selected on the page"
    return found.group(1)


def console_send(session: requests.Session, base: str, gateway: str, token: str) -> str:
    """The console's Send, through `base`, aimed at the gateway; the response panel as text."""
    page = session.get(base + PAGE).text
    data = {
        **OP,
        "csrfmiddlewaretoken": hidden_fields(page, 'id="console-form"')["csrfmiddlewaretoken"],
        "server": f"{gateway}/echo",
        "token": token,
        "param.query.message": "through the load balancer",
    }
    answer = session.post(base + "/console/send/", data=data)
    assert answer.status_code == 200, answer.text[:2000]
    return htmllib.unescape(re.sub(r"<[^>]+>", "", answer.text))


def assert_echoed_200(text: str) -> None:
    panel = re.sub(r"\s+", " ", text[text.find("Response") :])
    assert re.search(r"^\s*200\s*$", text, re.M), panel[:1500]
    assert "through the load balancer" in text
    assert re.search(r'"authorization": "Bearer \[\d+ characters\]"', text), text[:2000]


def access_token(topology: Topology, scope: str = "echo.read") -> str:
    """A JWT from the provider's token endpoint through nginx (client credentials, the
    operator's first-party probe client)."""
    answer = requests.post(
        topology.url("/idp/token/"),
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(SERVICE_CLIENT_ID, SERVICE_CLIENT_SECRET),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text[:500]
    return str(answer.json()["access_token"])


def gateway_status(base: str, token: str) -> int:
    answer = requests.get(
        f"{base}/echo/anything",
        params={"message": "hi"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    return answer.status_code


def test_sign_in_and_console_journey_through_nginx(
    topology: Topology, browser: requests.Session
) -> None:
    assert signed_in_as(browser, topology.url(PAGE)) == "Ada Lovelace"
    token = console_token(browser, topology)
    assert_echoed_200(console_send(browser, topology.portal_base, topology.gateway_base, token))
    # Each process behind nginx was used at least once: neither sat idle while the other served.
    for proc in topology.portals:
        assert signed_in_as(browser, proc.base + PAGE) == "Ada Lovelace"
    access = (topology.workdir / "nginx-access.log").read_text()
    assert access.count('"POST /console/send/') >= 1


def test_session_and_console_tokens_move_between_portal_processes(
    topology: Topology, browser: requests.Session
) -> None:
    first, second = topology.portals
    # A token fetched through nginx (the flow's requests spread over both processes; its
    # redirect URI is nginx's) is sent from each process: both read the same session.
    token = console_token(browser, topology)
    assert_echoed_200(console_send(browser, second.base, topology.gateway_base, token))
    assert_echoed_200(console_send(browser, first.base, topology.gateway_base, token))
    for _ in range(3):
        for proc in topology.portals:
            assert signed_in_as(browser, proc.base + PAGE) == "Ada Lovelace"


def wait_for_status(topology: Topology, token: str, status: int) -> list[str]:
    """Polls each gateway process directly until it answers `status`; the names still not."""
    waiting = {g.name: g.base for g in topology.gateways}
    deadline = time.monotonic() + PROPAGATION_CEILING
    while waiting and time.monotonic() < deadline:
        for name, base in list(waiting.items()):
            if gateway_status(base, token) == status:
                waiting.pop(name)
        time.sleep(0.25)
    return sorted(waiting)


def test_a_policy_change_reaches_both_gateway_processes(topology: Topology) -> None:
    token = access_token(topology, "echo.read")
    for gateway in topology.gateways:
        assert gateway_status(gateway.base, token) == 200, gateway.name
    issuer = topology.env["IDENTITY_ISSUER"]
    topology.apply(api_config(scope="echo.admin").replace("${ISSUER}", issuer))
    try:
        assert wait_for_status(topology, token, 403) == [], "still serving the old policy"
        # And through the load balancer, every call now meets the new policy.
        assert {gateway_status(topology.gateway_base, token) for _ in range(6)} == {403}
    finally:
        topology.apply(api_config().replace("${ISSUER}", issuer))
    assert wait_for_status(topology, token, 200) == [], "the policy was not restored"


def test_a_rate_limit_holds_across_both_gateway_processes(topology: Topology) -> None:
    """Counters are shared through REDIS_URL, the one Redis variable (no GATEWAY_REDIS_URL)."""
    issuer = topology.env["IDENTITY_ISSUER"]
    token = access_token(topology)
    # A renewal period no other test uses, so the counter starts at zero.
    topology.apply(api_config(rate_limit=4, period=3599).replace("${ISSUER}", issuer))
    try:
        under_new_limit: list[tuple[str, int]] = []
        deadline = time.monotonic() + PROPAGATION_CEILING
        while time.monotonic() < deadline and len(under_new_limit) < 12:
            for gateway in topology.gateways:
                answer = requests.get(
                    f"{gateway.base}/echo/anything",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=10,
                )
                if answer.headers.get("x-ratelimit-limit") == "4" or answer.status_code == 429:
                    under_new_limit.append((gateway.name, answer.status_code))
            time.sleep(0.1)
        served = {name for name, _ in under_new_limit}
        assert served == {g.name for g in topology.gateways}, under_new_limit
        # Four calls in all, whichever process took them: one counter, not one per process.
        assert [status for _, status in under_new_limit].count(200) == 4, under_new_limit
    finally:
        topology.apply(api_config().replace("${ISSUER}", issuer))
        assert wait_for_status(topology, token, 200) == []


def test_probes_answer_a_load_balancer_by_ip_address(topology: Topology) -> None:
    """Liveness and readiness on every process: plain http, an IP Host, no redirect, JSON."""
    probe_host = {"Host": "10.0.0.7:8000"}  # the process's address, not in ALLOWED_HOSTS
    for proc, paths in [
        *((p, ("/health/live", "/health/ready")) for p in topology.portals),
        *((g, ("/-/live", "/-/ready")) for g in topology.gateways),
    ]:
        for path in paths:
            answer = requests.get(
                proc.base + path, headers=probe_host, allow_redirects=False, timeout=5
            )
            assert answer.status_code == 200, (proc.name, path, answer.status_code)
            assert answer.headers["Content-Type"].startswith("application/json"), (proc.name, path)
    ready = requests.get(topology.portals[0].base + "/health/ready", timeout=5).json()
    assert "database" in str(ready) and "redis" in str(ready).lower(), ready


def test_a_client_cannot_choose_its_request_id_through_the_load_balancer(
    topology: Topology,
) -> None:
    """The portal believes X-Request-ID from the balancer (TRUSTED_PROXIES); nginx passed a
    client's own on unchanged, so a client chose the id its log lines, and the console's
    calls to the gateway and backends, were filed under."""
    answer = requests.get(
        topology.url("/apis/"), headers={"X-Request-ID": "chosen-by-the-client"}, timeout=10
    )
    assert answer.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-ID"]), answer.headers


def test_stopping_a_portal_process_loses_no_session(
    topology: Topology, browser: requests.Session
) -> None:
    token = console_token(browser, topology)
    stopped, survivor = topology.portals
    stopped.stop()
    assert stopped.proc is not None and stopped.proc.returncode is not None
    with pytest.raises(requests.ConnectionError):
        requests.get(stopped.base + "/health/", timeout=2)
    # nginx moves every request to the survivor; the user notices nothing.
    for _ in range(6):
        assert signed_in_as(browser, topology.url(PAGE)) == "Ada Lovelace"
    assert_echoed_200(console_send(browser, topology.portal_base, topology.gateway_base, token))
    assert signed_in_as(browser, survivor.base + PAGE) == "Ada Lovelace"
