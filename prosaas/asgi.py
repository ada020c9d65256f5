"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prosaas.settings")

application = get_asgi_application()

# Serving processes hear each other's cache invalidations (see businesses/cache.py).
from businesses.cache import listen_for_invalidations  # noqa: E402

listen_for_invalidations()
