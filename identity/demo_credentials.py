"""Well-known credentials the demo seed uses; production refuses them (identity.E002)."""

from __future__ import annotations

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password"
# The demo's administrator, so a new publisher can reach /admin/ and import a spec.
DEMO_ADMIN_USERNAME = "admin"
DEMO_ADMIN_PASSWORD = "admin-demo-password"
DEMO_USERS = {DEMO_USERNAME: DEMO_PASSWORD, DEMO_ADMIN_USERNAME: DEMO_ADMIN_PASSWORD}
PORTAL_CLIENT_ID = "portal-signin"
PORTAL_CLIENT_SECRET = "portal-signin-demo-secret"
CONSOLE_CLIENT_ID = "portal-console"
CONSOLE_CLIENT_SECRET = "portal-console-demo-secret"
SERVICE_CLIENT_ID = "demo-service"
SERVICE_CLIENT_SECRET = "demo-service-demo-secret"

DEMO_SECRETS = {
    PORTAL_CLIENT_ID: PORTAL_CLIENT_SECRET,
    CONSOLE_CLIENT_ID: CONSOLE_CLIENT_SECRET,
    SERVICE_CLIENT_ID: SERVICE_CLIENT_SECRET,
}
