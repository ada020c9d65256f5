"""Fill in the sort keys and the statistics counters from the rows that exist.

Runs after the triggers (0022), so every write from here on is counted by them and the
backfill only has to bring the rows that existed before to the right values. Never in
one transaction (``atomic = False``): the customers are recomputed by id range, each
batch its own short transaction that locks only its customers, and the counters one
tenant per statement. Idempotent: run again (or ``manage.py customer_sort_keys
--backfill [--from-id N]`` with a progress bar), it changes only what is still wrong;
``customer_sort_keys --check`` reports what is left.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def backfill(apps: Any, schema_editor: Any) -> None:
    # The functions use raw SQL on the columns this migration knows, not the models.
    from crm import stats_counters
    from crm.activity import LEADS_COUNT_ONLY, backfill_sort_keys

    # The customer's call and WhatsApp counts come with 0027 (and their backfill, 0029).
    backfill_sort_keys(batch_size=1000, counts=LEADS_COUNT_ONLY)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT id FROM business ORDER BY id")
        business_ids = [row[0] for row in cursor.fetchall()]
    for business_id in business_ids:
        stats_counters.repair_stats(business_id=business_id)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("crm", "0022_derived_data_triggers"),
    ]

    operations = [
        # Backwards: nothing to undo; 0022 drops the triggers, 0021 the counters.
        migrations.RunPython(backfill, migrations.RunPython.noop, atomic=False),
    ]
