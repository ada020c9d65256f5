"""The intelligence list ordered by name (``?ordering=name``), read in index order.

Built with CREATE INDEX CONCURRENTLY, so writes to the table go on during the build.
That cannot run inside a transaction, hence ``atomic = False``.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations

import crm.indexes


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("crm", "0013_backfill_customer_sort_keys"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="customer",
            index=crm.indexes.NamedIndex(
                fields=["business", "name", "id"], name="idx_customer_business_name"
            ),
        ),
    ]
