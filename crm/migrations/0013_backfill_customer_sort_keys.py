"""Fill in the customer sort keys from the existing leads, calls and messages.

The statement is frozen here rather than imported from ``crm.activity`` so that this
migration keeps meaning what it meant when it was written. It is the same set-based
computation as ``manage.py customer_sort_keys --fix``, which can repair the keys at any
time later. It runs before the sort-key indexes exist, so it does not maintain them.
"""

from django.db import migrations

BACKFILL = """
UPDATE customer AS c
SET sort_leads_count = (SELECT count(*) FROM leads AS l WHERE l.customer_id = c.id),
    sort_last_interaction_at = GREATEST(
        (SELECT max(l.created_at) FROM leads AS l WHERE l.customer_id = c.id),
        (SELECT max(k.created_at) FROM call_log AS k WHERE k.customer_id = c.id),
        (SELECT max(w.created_at) FROM whatsapp_message AS w WHERE w.customer_id = c.id)
    )
"""


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0012_customer_sort_keys"),
    ]

    operations = [
        migrations.RunSQL(BACKFILL, reverse_sql=migrations.RunSQL.noop),
    ]
