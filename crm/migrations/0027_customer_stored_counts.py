"""Each customer's number of calls and of WhatsApp messages, kept on its row.

Counting a customer's rows on every page costs a scan of its index entries, which for a
customer with 200,000 calls is most of the intelligence page's time. The triggers
(0028) keep these columns exact, as they already keep the lead count
(``sort_leads_count``) and the last interaction; 0029 fills them in for the rows that
exist. Both columns have a constant database default: a catalogue-only change in
PostgreSQL 11+, but ``ALTER TABLE`` still needs the table's ACCESS EXCLUSIVE lock for an
instant, so the lock is requested under a short ``lock_timeout`` and retried with
backoff (prosaas/migrations.py), hence ``atomic = False``.
"""

from django.db import migrations, models

import prosaas.migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("crm", "0026_whatsapp_message_verbose_name"),
    ]

    operations = [
        prosaas.migrations.WithLockTimeout(
            [
                migrations.AddField(
                    model_name="customer",
                    name="stored_calls_count",
                    field=models.IntegerField(
                        db_default=0, default=0, editable=False, help_text="Number of calls."
                    ),
                ),
                migrations.AddField(
                    model_name="customer",
                    name="stored_whatsapp_count",
                    field=models.IntegerField(
                        db_default=0,
                        default=0,
                        editable=False,
                        help_text="Number of WhatsApp messages.",
                    ),
                ),
            ]
        ),
    ]
