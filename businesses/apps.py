from __future__ import annotations

from django.apps import AppConfig


class BusinessesConfig(AppConfig):
    name = "businesses"

    def ready(self) -> None:
        # Connects the receivers that invalidate the caches when tenants change, and
        # those that revoke a user's API tokens when the password changes.
        from businesses import signals, token_revocation  # noqa: F401
