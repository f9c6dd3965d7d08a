import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()

from portal.startup import (  # noqa: E402
    freeze_startup_objects,
    require_production_secrets,
    warm_up,
)

require_production_secrets()
warm_up()
freeze_startup_objects()
