"""A customer's WhatsApp count and latest message (customer intelligence); replaces the FK index.

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
        ("crm", "0007_idx_call_log_customer_created"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="whatsappmessage",
            index=crm.indexes.NamedIndex(
                fields=["customer", "-created_at", "-id"],
                name="idx_whatsapp_message_customer_created",
            ),
        ),
    ]
