import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()

from portal.startup import freeze_startup_objects, require_production_secrets  # noqa: E402

require_production_secrets()
freeze_startup_objects()
