"""WSGI entry point (gunicorn prosaas.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prosaas.settings")

application = get_wsgi_application()

# Serving processes hear each other's cache invalidations (see businesses/cache.py).
from businesses.cache import listen_for_invalidations  # noqa: E402

listen_for_invalidations()
