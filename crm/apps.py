from __future__ import annotations

from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "crm"

    def ready(self) -> None:
        # Keep the customer sort keys in step with every ORM write (crm/activity.py).
        from crm.activity import connect_receivers

        connect_receivers()
