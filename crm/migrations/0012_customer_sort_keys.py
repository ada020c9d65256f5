"""Sort keys on the customer row for the intelligence list's activity orderings.

Both columns are catalogue-only changes in PostgreSQL 11+ (a nullable column, and a
constant database default that stays, so raw inserts of other programs keep working),
but ``ALTER TABLE`` still needs the table's ACCESS EXCLUSIVE lock for an instant. Behind
one long read that wait would block every later query on ``customer``, so the lock is
requested with a short ``lock_timeout`` and retried with backoff (prosaas/migrations.py),
each attempt its own transaction, hence ``atomic = False``.

The values are filled in later: the triggers that keep them exact are created by 0022,
and 0023 then backfills every existing customer in small batches. Triggers first, then
the backfill: a write made during the backfill is counted either by the trigger or by
the batch that reads it afterwards, never lost.
"""

from django.db import migrations, models

import prosaas.migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("crm", "0011_idx_call_log_business_created"),
    ]

    operations = [
        prosaas.migrations.WithLockTimeout(
            [
                migrations.AddField(
                    model_name="customer",
                    name="sort_leads_count",
                    field=models.IntegerField(
                        default=0,
                        db_default=0,
                        editable=False,
                        help_text="Sort key: number of leads.",
                    ),
                ),
                migrations.AddField(
                    model_name="customer",
                    name="sort_last_interaction_at",
                    field=models.DateTimeField(
                        blank=True,
                        editable=False,
                        help_text="Sort key: newest lead, call or WhatsApp message.",
                        null=True,
                    ),
                ),
            ]
        ),
    ]
