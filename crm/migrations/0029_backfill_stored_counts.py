"""Fill in every customer's call and WhatsApp counts from the rows that exist.

After the triggers (0028), so a write from here on is counted by them and a batch that
reads it afterwards finds it already counted: nothing is lost or counted twice. By id
range, each batch its own short transaction (crm/activity.py), never the migration's
one; idempotent and resumable with ``manage.py customer_sort_keys --backfill
[--from-id N]``, and ``customer_sort_keys --check`` reports what is left.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def backfill(apps: Any, schema_editor: Any) -> None:
    # Raw SQL on the columns this migration knows, not the models.
    from crm.activity import backfill_sort_keys

    backfill_sort_keys(batch_size=1000)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("crm", "0028_stored_counts_triggers"),
    ]

    operations = [
        # Backwards: nothing to undo; 0028 restores the triggers, 0027 drops the columns.
        migrations.RunPython(backfill, migrations.RunPython.noop, atomic=False),
    ]
