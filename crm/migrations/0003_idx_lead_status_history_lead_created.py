"""A lead's status timeline, newest first (GET /api/leads/{id}/status-history/).

Built with CREATE INDEX CONCURRENTLY, so writes to the table go on during the build.
That cannot run inside a transaction, hence ``atomic = False``. If the build fails it
leaves an INVALID index behind: ``manage.py db_indexes --check`` finds it.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations

import crm.indexes


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("crm", "0002_idx_leads_tenant_status_created"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="leadstatushistory",
            index=crm.indexes.NamedIndex(
                fields=["lead", "-created_at"], name="idx_lead_status_history_lead_created"
            ),
        ),
    ]
