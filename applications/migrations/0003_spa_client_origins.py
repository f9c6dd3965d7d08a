"""Single-page apps registered before their clients got CORS at the token endpoint: their
redirect URIs' origins become the client's allowed origins, as applications/flows.py now sets
them (the same rule, written out here so the migration does not change with the code)."""

from urllib.parse import urlsplit

from django.db import migrations


def _origins(uris):
    origins = []
    for uri in uris:
        parts = urlsplit(uri)
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        default = 443 if parts.scheme == "https" else 80
        port = f":{parts.port}" if parts.port and parts.port != default else ""
        origins.append(f"{parts.scheme}://{host}{port}")
    return list(dict.fromkeys(origins))


def allow_spa_origins(apps, schema_editor):
    Application = apps.get_model("applications", "Application")
    spas = Application.objects.filter(kind="spa", provider_client__isnull=False)
    for app in spas.select_related("provider_client"):
        client = app.provider_client
        client.allowed_origins = " ".join(_origins(app.redirect_uris or []))
        client.save(update_fields=["allowed_origins"])


class Migration(migrations.Migration):

    dependencies = [
        ("applications", "0002_external_clients"),
        ("identity", "0005_client_scopes_from_subscriptions"),
    ]

    operations = [migrations.RunPython(allow_spa_origins, migrations.RunPython.noop)]
