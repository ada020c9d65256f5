"""The lead list filtered by status, newest first (GET /api/leads/?status=...).

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
        ("crm", "0001_initial"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="lead",
            index=crm.indexes.NamedIndex(
                fields=["business", "status", "-created_at"], name="idx_leads_tenant_status_created"
            ),
        ),
    ]
