"""Formerly the sort-key backfill: one UPDATE of every customer in one transaction.

That held row locks on the whole table for the length of the update and missed rows
committed meanwhile. The backfill now runs after the triggers exist (0022), in batches
of its own short transactions (0023, ``manage.py customer_sort_keys --backfill``). This
migration stays, empty, because 0014 depends on it.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0012_customer_sort_keys"),
    ]

    operations: list[migrations.operations.base.Operation] = []
