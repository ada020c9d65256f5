from __future__ import annotations

from django.apps import AppConfig


class CrmConfig(AppConfig):
    # The customer sort keys and the tenant statistics are kept by database triggers
    # (crm/triggers.py), so there are no signal receivers to connect here.
    name = "crm"
