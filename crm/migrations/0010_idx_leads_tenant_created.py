"""The unfiltered lead list of a tenant, newest first (GET /api/leads/).

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
        ("crm", "0009_idx_customer_business_created"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="lead",
            index=crm.indexes.NamedIndex(
                fields=["business", "-created_at", "-id"], name="idx_leads_tenant_created"
            ),
        ),
    ]
