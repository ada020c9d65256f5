"""A customer keeps its id: a trigger refuses a change of ``customer.id``.

The counts and the last interaction on a customer row describe the rows that point at
its id; the foreign keys to it are deferred, so renumbering a customer and its rows in
one transaction would pass with those values wrong. Created under a short lock_timeout
with retries (prosaas/migrations.py), hence ``atomic = False``.
"""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations

import prosaas.migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("crm", "0029_backfill_stored_counts"),
    ]

    operations = [
        prosaas.migrations.WithLockTimeout(
            [
                pgtrigger.migrations.AddTrigger(
                    model_name="customer",
                    trigger=pgtrigger.compiler.Trigger(
                        name="customer_id_read_only",
                        sql=pgtrigger.compiler.UpsertTriggerSql(
                            condition="WHEN (OLD.id IS DISTINCT FROM NEW.id)",
                            func="RAISE EXCEPTION 'customer % cannot change its id to %', OLD.id, NEW.id USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'customer_id_read_only';",
                            hash="8152d6eae1ee19071509f052cd9288fdf64d8dcb",
                            operation="UPDATE",
                            pgid="pgtrigger_customer_id_read_only_f1940",
                            table="customer",
                            when="BEFORE",
                        ),
                    ),
                ),
            ]
        ),
    ]
