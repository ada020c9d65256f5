"""The unfiltered call list of a tenant, newest first (GET /api/calls/).

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
        ("crm", "0010_idx_leads_tenant_created"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="calllog",
            index=crm.indexes.NamedIndex(
                fields=["business", "-created_at", "-id"], name="idx_call_log_business_created"
            ),
        ),
    ]
