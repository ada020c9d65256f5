"""A customer stays in its tenant: a trigger refuses a change of ``business_id``.

Created under a short lock_timeout with retries (prosaas/migrations.py), hence
``atomic = False``.
"""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations

import prosaas.migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("crm", "0024_call_log_call_sid_unique_per_business"),
    ]

    operations = [
        prosaas.migrations.WithLockTimeout(
            [
                pgtrigger.migrations.AddTrigger(
                    model_name="customer",
                    trigger=pgtrigger.compiler.Trigger(
                        name="customer_business_read_only",
                        sql=pgtrigger.compiler.UpsertTriggerSql(
                            condition="WHEN (OLD.business_id IS DISTINCT FROM NEW.business_id)",
                            func="RAISE EXCEPTION 'customer % cannot move from business % to %', OLD.id, OLD.business_id, NEW.business_id USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'customer_business_read_only';",
                            hash="f6c41ca482316cb466b3785bc92bf18aabbf480f",
                            operation="UPDATE",
                            pgid="pgtrigger_customer_business_read_only_bf06a",
                            table="customer",
                            when="BEFORE",
                        ),
                    ),
                ),
            ]
        ),
    ]
