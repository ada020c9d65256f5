"""A tenant's customers newest first, the default order of the customer lists.

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
        ("crm", "0008_idx_whatsapp_message_customer_created"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="customer",
            index=crm.indexes.NamedIndex(
                fields=["business", "-created_at", "-id"], name="idx_customer_business_created"
            ),
        ),
    ]
