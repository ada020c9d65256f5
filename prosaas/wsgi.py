"""WSGI entry point (gunicorn prosaas.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prosaas.settings")

application = get_wsgi_application()
