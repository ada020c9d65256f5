"""``call_sid`` is unique per business, no longer across the table.

The new unique index is built concurrently (writes go on meanwhile, hence
``atomic = False``), then becomes the constraint (``ADD CONSTRAINT ... USING INDEX``
only takes a brief lock); the old constraint goes last, so that at every moment one
of them holds. Both ``ALTER TABLE`` statements need the table's ACCESS EXCLUSIVE lock
for an instant, so they ask for it under a short lock_timeout and retry with backoff
(prosaas/migrations.py) instead of queueing in front of every query on ``call_log``. A failed concurrent build leaves an invalid index behind: dropping it
first lets the migration be run again.
"""

from django.db import migrations, models

import prosaas.migrations

NEW = "call_log_business_call_sid_uniq"
OLD = "call_log_call_sid_uniq"


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("crm", "0023_backfill_derived_data"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=[
                        f"DROP INDEX CONCURRENTLY IF EXISTS {NEW}",
                        f"CREATE UNIQUE INDEX CONCURRENTLY {NEW} ON call_log (business_id, call_sid)",
                    ],
                    reverse_sql=[f"DROP INDEX CONCURRENTLY IF EXISTS {NEW}"],
                ),
            ],
        ),
        prosaas.migrations.WithLockTimeout(
            [
                migrations.SeparateDatabaseAndState(
                    database_operations=[
                        migrations.RunSQL(
                            sql=[
                                f"ALTER TABLE call_log ADD CONSTRAINT {NEW} UNIQUE USING INDEX {NEW}"
                            ],
                            reverse_sql=[f"ALTER TABLE call_log DROP CONSTRAINT {NEW}"],
                        ),
                    ],
                    state_operations=[
                        migrations.AddConstraint(
                            model_name="calllog",
                            constraint=models.UniqueConstraint(
                                fields=("business", "call_sid"), name=NEW
                            ),
                        ),
                    ],
                ),
            ]
        ),
        prosaas.migrations.WithLockTimeout(
            [
                migrations.SeparateDatabaseAndState(
                    database_operations=[
                        migrations.RunSQL(
                            sql=[f"ALTER TABLE call_log DROP CONSTRAINT {OLD}"],
                            reverse_sql=[
                                f"ALTER TABLE call_log ADD CONSTRAINT {OLD} UNIQUE USING INDEX {OLD}"
                            ],
                        ),
                    ],
                    state_operations=[
                        migrations.RemoveConstraint(model_name="calllog", name=OLD),
                    ],
                ),
            ]
        ),
        # Backwards only: the old index is built concurrently before it becomes the
        # constraint again (operations are reversed in order).
        migrations.RunSQL(
            sql=migrations.RunSQL.noop,
            reverse_sql=[
                f"DROP INDEX CONCURRENTLY IF EXISTS {OLD}",
                f"CREATE UNIQUE INDEX CONCURRENTLY {OLD} ON call_log (call_sid)",
            ],
        ),
    ]
