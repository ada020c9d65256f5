from __future__ import annotations

from django.apps import AppConfig


class BusinessesConfig(AppConfig):
    name = "businesses"

    def ready(self) -> None:
        # Connects the receivers that invalidate the caches when tenants change.
        from businesses import signals  # noqa: F401
