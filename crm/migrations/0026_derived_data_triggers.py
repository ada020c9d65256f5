"""The triggers that keep the customer sort keys and the tenant statistics exact.

Generated from the models' ``Meta.triggers`` (crm/triggers.py). ``CREATE TRIGGER`` takes
a SHARE ROW EXCLUSIVE lock on its table, which waits for running writes and blocks new
ones while it waits, so each table's triggers are created under a short lock_timeout and
retried with backoff (prosaas/migrations.py), hence ``atomic = False``. A table's
triggers are created together, so no write of that table sees only some of them.
"""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations

import prosaas.migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("crm", "0025_tenant_stats_counters"),
    ]

    operations = [
        prosaas.migrations.WithLockTimeout(
            [
                pgtrigger.migrations.AddTrigger(
                    model_name="calllog",
                    trigger=pgtrigger.compiler.Trigger(
                        name="call_log_derived_insert",
                        sql=pgtrigger.compiler.UpsertTriggerSql(
                            func="PERFORM 1 FROM customer\nWHERE id IN (SELECT ch.customer_id FROM (SELECT n.customer_id, 0 AS leads, n.created_at AS added, NULL::timestamptz AS removed FROM new_rows AS n WHERE n.customer_id IS NOT NULL) AS ch)\nORDER BY id FOR NO KEY UPDATE;\nUPDATE customer AS c SET\nsort_leads_count = c.sort_leads_count + d.leads,\nsort_last_interaction_at = CASE\nWHEN d.removed IS NOT NULL AND (\nc.sort_last_interaction_at IS NULL OR d.removed >= c.sort_last_interaction_at\n) THEN GREATEST(\n(SELECT max(x.created_at) FROM leads AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM call_log AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM whatsapp_message AS x WHERE x.customer_id = c.id)\n)\nELSE GREATEST(c.sort_last_interaction_at, d.added)\nEND\nFROM (\nSELECT ch.customer_id, sum(ch.leads) AS leads, max(ch.added) AS added,\nmax(ch.removed) AS removed\nFROM (SELECT n.customer_id, 0 AS leads, n.created_at AS added, NULL::timestamptz AS removed FROM new_rows AS n WHERE n.customer_id IS NOT NULL) AS ch\nGROUP BY ch.customer_id\n) AS d\nWHERE c.id = d.customer_id;\nINSERT INTO tenant_stats_counter AS t (business_id, slot, calls, calls_ai_processed)\nSELECT r.business_id, (pg_backend_pid() % 16)::smallint, sum(r.sign * 1), sum(r.sign * (r.summary <> '')::int)\nFROM (SELECT 1 AS sign, n.* FROM new_rows AS n) AS r\nGROUP BY r.business_id\nHAVING sum(r.sign * 1) <> 0 OR sum(r.sign * (r.summary <> '')::int) <> 0\nORDER BY r.business_id\nON CONFLICT (business_id, slot) DO UPDATE SET\ncalls = t.calls + EXCLUDED.calls, calls_ai_processed = t.calls_ai_processed + EXCLUDED.calls_ai_processed; RETURN NULL;",
                            hash="df788d8a67306120e27561887e758b0878970a1c",
                            level="STATEMENT",
                            operation="INSERT",
                            pgid="pgtrigger_call_log_derived_insert_a7fcc",
                            referencing="REFERENCING NEW TABLE AS new_rows ",
                            table="call_log",
                            when="AFTER",
                        ),
                    ),
                ),
                pgtrigger.migrations.AddTrigger(
                    model_name="calllog",
                    trigger=pgtrigger.compiler.Trigger(
                        name="call_log_derived_update",
                        sql=pgtrigger.compiler.UpsertTriggerSql(
                            func="PERFORM 1 FROM customer\nWHERE id IN (SELECT ch.customer_id FROM (SELECT o.customer_id, -0 AS leads, NULL::timestamptz AS added, o.created_at AS removed FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id WHERE (o.customer_id, o.created_at) IS DISTINCT FROM (n.customer_id, n.created_at) AND o.customer_id IS NOT NULL UNION ALL SELECT n.customer_id, 0 AS leads, n.created_at AS added, NULL::timestamptz AS removed FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id WHERE (o.customer_id, o.created_at) IS DISTINCT FROM (n.customer_id, n.created_at) AND n.customer_id IS NOT NULL) AS ch)\nORDER BY id FOR NO KEY UPDATE;\nUPDATE customer AS c SET\nsort_leads_count = c.sort_leads_count + d.leads,\nsort_last_interaction_at = CASE\nWHEN d.removed IS NOT NULL AND (\nc.sort_last_interaction_at IS NULL OR d.removed >= c.sort_last_interaction_at\n) THEN GREATEST(\n(SELECT max(x.created_at) FROM leads AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM call_log AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM whatsapp_message AS x WHERE x.customer_id = c.id)\n)\nELSE GREATEST(c.sort_last_interaction_at, d.added)\nEND\nFROM (\nSELECT ch.customer_id, sum(ch.leads) AS leads, max(ch.added) AS added,\nmax(ch.removed) AS removed\nFROM (SELECT o.customer_id, -0 AS leads, NULL::timestamptz AS added, o.created_at AS removed FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id WHERE (o.customer_id, o.created_at) IS DISTINCT FROM (n.customer_id, n.created_at) AND o.customer_id IS NOT NULL UNION ALL SELECT n.customer_id, 0 AS leads, n.created_at AS added, NULL::timestamptz AS removed FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id WHERE (o.customer_id, o.created_at) IS DISTINCT FROM (n.customer_id, n.created_at) AND n.customer_id IS NOT NULL) AS ch\nGROUP BY ch.customer_id\n) AS d\nWHERE c.id = d.customer_id;\nINSERT INTO tenant_stats_counter AS t (business_id, slot, calls, calls_ai_processed)\nSELECT r.business_id, (pg_backend_pid() % 16)::smallint, sum(r.sign * 1), sum(r.sign * (r.summary <> '')::int)\nFROM (SELECT 1 AS sign, n.* FROM new_rows AS n UNION ALL SELECT -1 AS sign, o.* FROM old_rows AS o) AS r\nGROUP BY r.business_id\nHAVING sum(r.sign * 1) <> 0 OR sum(r.sign * (r.summary <> '')::int) <> 0\nORDER BY r.business_id\nON CONFLICT (business_id, slot) DO UPDATE SET\ncalls = t.calls + EXCLUDED.calls, calls_ai_processed = t.calls_ai_processed + EXCLUDED.calls_ai_processed; RETURN NULL;",
                            hash="6e3f8edbcfb760d4ae34b6ee07b6ae16583ad146",
                            level="STATEMENT",
                            operation="UPDATE",
                            pgid="pgtrigger_call_log_derived_update_86be7",
                            referencing="REFERENCING OLD TABLE AS old_rows  NEW TABLE AS new_rows ",
                            table="call_log",
                            when="AFTER",
                        ),
                    ),
                ),
                pgtrigger.migrations.AddTrigger(
                    model_name="calllog",
                    trigger=pgtrigger.compiler.Trigger(
                        name="call_log_derived_delete",
                        sql=pgtrigger.compiler.UpsertTriggerSql(
                            func="PERFORM 1 FROM customer\nWHERE id IN (SELECT ch.customer_id FROM (SELECT o.customer_id, -0 AS leads, NULL::timestamptz AS added, o.created_at AS removed FROM old_rows AS o WHERE o.customer_id IS NOT NULL) AS ch)\nORDER BY id FOR NO KEY UPDATE;\nUPDATE customer AS c SET\nsort_leads_count = c.sort_leads_count + d.leads,\nsort_last_interaction_at = CASE\nWHEN d.removed IS NOT NULL AND (\nc.sort_last_interaction_at IS NULL OR d.removed >= c.sort_last_interaction_at\n) THEN GREATEST(\n(SELECT max(x.created_at) FROM leads AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM call_log AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM whatsapp_message AS x WHERE x.customer_id = c.id)\n)\nELSE GREATEST(c.sort_last_interaction_at, d.added)\nEND\nFROM (\nSELECT ch.customer_id, sum(ch.leads) AS leads, max(ch.added) AS added,\nmax(ch.removed) AS removed\nFROM (SELECT o.customer_id, -0 AS leads, NULL::timestamptz AS added, o.created_at AS removed FROM old_rows AS o WHERE o.customer_id IS NOT NULL) AS ch\nGROUP BY ch.customer_id\n) AS d\nWHERE c.id = d.customer_id;\nINSERT INTO tenant_stats_counter AS t (business_id, slot, calls, calls_ai_processed)\nSELECT r.business_id, (pg_backend_pid() % 16)::smallint, sum(r.sign * 1), sum(r.sign * (r.summary <> '')::int)\nFROM (SELECT -1 AS sign, o.* FROM old_rows AS o) AS r\nGROUP BY r.business_id\nHAVING sum(r.sign * 1) <> 0 OR sum(r.sign * (r.summary <> '')::int) <> 0\nORDER BY r.business_id\nON CONFLICT (business_id, slot) DO UPDATE SET\ncalls = t.calls + EXCLUDED.calls, calls_ai_processed = t.calls_ai_processed + EXCLUDED.calls_ai_processed; RETURN NULL;",
                            hash="a50a03b905a04304407db58e8bbe0d3fce81cfd4",
                            level="STATEMENT",
                            operation="DELETE",
                            pgid="pgtrigger_call_log_derived_delete_d0cd6",
                            referencing="REFERENCING OLD TABLE AS old_rows ",
                            table="call_log",
                            when="AFTER",
                        ),
                    ),
                ),
            ]
        ),
        prosaas.migrations.WithLockTimeout(
            [
                pgtrigger.migrations.AddTrigger(
                    model_name="customer",
                    trigger=pgtrigger.compiler.Trigger(
                        name="customer_sort_keys_on_insert",
                        sql=pgtrigger.compiler.UpsertTriggerSql(
                            func="SELECT (SELECT count(*) FROM leads AS x WHERE x.customer_id = NEW.id),\nGREATEST(\n(SELECT max(x.created_at) FROM leads AS x WHERE x.customer_id = NEW.id),\n(SELECT max(x.created_at) FROM call_log AS x WHERE x.customer_id = NEW.id),\n(SELECT max(x.created_at) FROM whatsapp_message AS x WHERE x.customer_id = NEW.id)\n)\nINTO NEW.sort_leads_count, NEW.sort_last_interaction_at;\nRETURN NEW;",
                            hash="e93d3eb1a1e830ec74903d76a269fb37b649672f",
                            operation="INSERT",
                            pgid="pgtrigger_customer_sort_keys_on_insert_2b4d3",
                            table="customer",
                            when="BEFORE",
                        ),
                    ),
                ),
                pgtrigger.migrations.AddTrigger(
                    model_name="customer",
                    trigger=pgtrigger.compiler.Trigger(
                        name="customer_sort_keys_guard",
                        sql=pgtrigger.compiler.UpsertTriggerSql(
                            condition="WHEN ((OLD.sort_leads_count, OLD.sort_last_interaction_at) IS DISTINCT FROM (NEW.sort_leads_count, NEW.sort_last_interaction_at))",
                            func="IF pg_trigger_depth() < 2\nAND coalesce(current_setting('crm.sort_keys_writer', true), '') <> 'on'\nTHEN\nNEW.sort_leads_count := OLD.sort_leads_count;\nNEW.sort_last_interaction_at := OLD.sort_last_interaction_at;\nEND IF;\nRETURN NEW;",
                            hash="ff501cc74ec5ee01c3e234863734da21f259e2de",
                            operation="UPDATE",
                            pgid="pgtrigger_customer_sort_keys_guard_0d761",
                            table="customer",
                            when="BEFORE",
                        ),
                    ),
                ),
                pgtrigger.migrations.AddTrigger(
                    model_name="customer",
                    trigger=pgtrigger.compiler.Trigger(
                        name="customer_derived_insert",
                        sql=pgtrigger.compiler.UpsertTriggerSql(
                            func="INSERT INTO tenant_stats_counter AS t (business_id, slot, customers)\nSELECT r.business_id, (pg_backend_pid() % 16)::smallint, sum(r.sign * 1)\nFROM (SELECT 1 AS sign, n.* FROM new_rows AS n) AS r\nGROUP BY r.business_id\nHAVING sum(r.sign * 1) <> 0\nORDER BY r.business_id\nON CONFLICT (business_id, slot) DO UPDATE SET\ncustomers = t.customers + EXCLUDED.customers;\nINSERT INTO tenant_stats_bucket AS t (business_id, bucket_start, slot, customers)\nSELECT r.business_id, date_bin('15 minutes', r.created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'), (pg_backend_pid() % 16)::smallint, sum(r.sign)\nFROM (SELECT 1 AS sign, n.* FROM new_rows AS n) AS r\nGROUP BY 1, 2\nHAVING sum(r.sign) <> 0\nORDER BY 1, 2\nON CONFLICT (business_id, bucket_start, slot) DO UPDATE SET\ncustomers = t.customers + EXCLUDED.customers; RETURN NULL;",
                            hash="072f0618a45f416cee853914e793cd94d4289194",
                            level="STATEMENT",
                            operation="INSERT",
                            pgid="pgtrigger_customer_derived_insert_e51e7",
                            referencing="REFERENCING NEW TABLE AS new_rows ",
                            table="customer",
                            when="AFTER",
                        ),
                    ),
                ),
                pgtrigger.migrations.AddTrigger(
                    model_name="customer",
                    trigger=pgtrigger.compiler.Trigger(
                        name="customer_derived_update",
                        sql=pgtrigger.compiler.UpsertTriggerSql(
                            func="INSERT INTO tenant_stats_counter AS t (business_id, slot, customers)\nSELECT r.business_id, (pg_backend_pid() % 16)::smallint, sum(r.sign * 1)\nFROM (SELECT 1 AS sign, n.* FROM new_rows AS n UNION ALL SELECT -1 AS sign, o.* FROM old_rows AS o) AS r\nGROUP BY r.business_id\nHAVING sum(r.sign * 1) <> 0\nORDER BY r.business_id\nON CONFLICT (business_id, slot) DO UPDATE SET\ncustomers = t.customers + EXCLUDED.customers;\nINSERT INTO tenant_stats_bucket AS t (business_id, bucket_start, slot, customers)\nSELECT r.business_id, date_bin('15 minutes', r.created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'), (pg_backend_pid() % 16)::smallint, sum(r.sign)\nFROM (SELECT 1 AS sign, n.* FROM new_rows AS n UNION ALL SELECT -1 AS sign, o.* FROM old_rows AS o) AS r\nGROUP BY 1, 2\nHAVING sum(r.sign) <> 0\nORDER BY 1, 2\nON CONFLICT (business_id, bucket_start, slot) DO UPDATE SET\ncustomers = t.customers + EXCLUDED.customers; RETURN NULL;",
                            hash="1708bf1dac47b8450e3660dd013ad89ffa878330",
                            level="STATEMENT",
                            operation="UPDATE",
                            pgid="pgtrigger_customer_derived_update_8cd82",
                            referencing="REFERENCING OLD TABLE AS old_rows  NEW TABLE AS new_rows ",
                            table="customer",
                            when="AFTER",
                        ),
                    ),
                ),
                pgtrigger.migrations.AddTrigger(
                    model_name="customer",
                    trigger=pgtrigger.compiler.Trigger(
                        name="customer_derived_delete",
                        sql=pgtrigger.compiler.UpsertTriggerSql(
                            func="INSERT INTO tenant_stats_counter AS t (business_id, slot, customers)\nSELECT r.business_id, (pg_backend_pid() % 16)::smallint, sum(r.sign * 1)\nFROM (SELECT -1 AS sign, o.* FROM old_rows AS o) AS r\nGROUP BY r.business_id\nHAVING sum(r.sign * 1) <> 0\nORDER BY r.business_id\nON CONFLICT (business_id, slot) DO UPDATE SET\ncustomers = t.customers + EXCLUDED.customers;\nINSERT INTO tenant_stats_bucket AS t (business_id, bucket_start, slot, customers)\nSELECT r.business_id, date_bin('15 minutes', r.created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'), (pg_backend_pid() % 16)::smallint, sum(r.sign)\nFROM (SELECT -1 AS sign, o.* FROM old_rows AS o) AS r\nGROUP BY 1, 2\nHAVING sum(r.sign) <> 0\nORDER BY 1, 2\nON CONFLICT (business_id, bucket_start, slot) DO UPDATE SET\ncustomers = t.customers + EXCLUDED.customers; RETURN NULL;",
                            hash="e1525163e1c8ebaf69cb5b0d5cd01b1587bb7df2",
                            level="STATEMENT",
                            operation="DELETE",
                            pgid="pgtrigger_customer_derived_delete_c444f",
                            referencing="REFERENCING OLD TABLE AS old_rows ",
                            table="customer",
                            when="AFTER",
                        ),
                    ),
                ),
            ]
        ),
        prosaas.migrations.WithLockTimeout(
            [
                pgtrigger.migrations.AddTrigger(
                    model_name="lead",
                    trigger=pgtrigger.compiler.Trigger(
                        name="leads_derived_insert",
                        sql=pgtrigger.compiler.UpsertTriggerSql(
                            func="PERFORM 1 FROM customer\nWHERE id IN (SELECT ch.customer_id FROM (SELECT n.customer_id, 1 AS leads, n.created_at AS added, NULL::timestamptz AS removed FROM new_rows AS n WHERE n.customer_id IS NOT NULL) AS ch)\nORDER BY id FOR NO KEY UPDATE;\nUPDATE customer AS c SET\nsort_leads_count = c.sort_leads_count + d.leads,\nsort_last_interaction_at = CASE\nWHEN d.removed IS NOT NULL AND (\nc.sort_last_interaction_at IS NULL OR d.removed >= c.sort_last_interaction_at\n) THEN GREATEST(\n(SELECT max(x.created_at) FROM leads AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM call_log AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM whatsapp_message AS x WHERE x.customer_id = c.id)\n)\nELSE GREATEST(c.sort_last_interaction_at, d.added)\nEND\nFROM (\nSELECT ch.customer_id, sum(ch.leads) AS leads, max(ch.added) AS added,\nmax(ch.removed) AS removed\nFROM (SELECT n.customer_id, 1 AS leads, n.created_at AS added, NULL::timestamptz AS removed FROM new_rows AS n WHERE n.customer_id IS NOT NULL) AS ch\nGROUP BY ch.customer_id\n) AS d\nWHERE c.id = d.customer_id;\nINSERT INTO tenant_stats_counter AS t (business_id, slot, leads, leads_from_calls, leads_converted_from_calls, leads_from_whatsapp, leads_converted_from_whatsapp, leads_meeting_ready)\nSELECT r.tenant_id, (pg_backend_pid() % 16)::smallint, sum(r.sign * 1), sum(r.sign * (r.source = 'call')::int), sum(r.sign * (r.source = 'call' AND r.status IN ('qualified', 'won'))::int), sum(r.sign * (r.source = 'whatsapp')::int), sum(r.sign * (r.source = 'whatsapp' AND r.status IN ('qualified', 'won'))::int), sum(r.sign * (r.status = 'qualified')::int)\nFROM (SELECT 1 AS sign, n.* FROM new_rows AS n) AS r\nGROUP BY r.tenant_id\nHAVING sum(r.sign * 1) <> 0 OR sum(r.sign * (r.source = 'call')::int) <> 0 OR sum(r.sign * (r.source = 'call' AND r.status IN ('qualified', 'won'))::int) <> 0 OR sum(r.sign * (r.source = 'whatsapp')::int) <> 0 OR sum(r.sign * (r.source = 'whatsapp' AND r.status IN ('qualified', 'won'))::int) <> 0 OR sum(r.sign * (r.status = 'qualified')::int) <> 0\nORDER BY r.tenant_id\nON CONFLICT (business_id, slot) DO UPDATE SET\nleads = t.leads + EXCLUDED.leads, leads_from_calls = t.leads_from_calls + EXCLUDED.leads_from_calls, leads_converted_from_calls = t.leads_converted_from_calls + EXCLUDED.leads_converted_from_calls, leads_from_whatsapp = t.leads_from_whatsapp + EXCLUDED.leads_from_whatsapp, leads_converted_from_whatsapp = t.leads_converted_from_whatsapp + EXCLUDED.leads_converted_from_whatsapp, leads_meeting_ready = t.leads_meeting_ready + EXCLUDED.leads_meeting_ready;\nINSERT INTO tenant_stats_bucket AS t (business_id, bucket_start, slot, leads)\nSELECT r.tenant_id, date_bin('15 minutes', r.created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'), (pg_backend_pid() % 16)::smallint, sum(r.sign)\nFROM (SELECT 1 AS sign, n.* FROM new_rows AS n) AS r\nGROUP BY 1, 2\nHAVING sum(r.sign) <> 0\nORDER BY 1, 2\nON CONFLICT (business_id, bucket_start, slot) DO UPDATE SET\nleads = t.leads + EXCLUDED.leads; RETURN NULL;",
                            hash="2b3c078bc55bd74ebe66d8d042a2c5e26178d8d4",
                            level="STATEMENT",
                            operation="INSERT",
                            pgid="pgtrigger_leads_derived_insert_82021",
                            referencing="REFERENCING NEW TABLE AS new_rows ",
                            table="leads",
                            when="AFTER",
                        ),
                    ),
                ),
                pgtrigger.migrations.AddTrigger(
                    model_name="lead",
                    trigger=pgtrigger.compiler.Trigger(
                        name="leads_derived_update",
                        sql=pgtrigger.compiler.UpsertTriggerSql(
                            func="PERFORM 1 FROM customer\nWHERE id IN (SELECT ch.customer_id FROM (SELECT o.customer_id, -1 AS leads, NULL::timestamptz AS added, o.created_at AS removed FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id WHERE (o.customer_id, o.created_at) IS DISTINCT FROM (n.customer_id, n.created_at) AND o.customer_id IS NOT NULL UNION ALL SELECT n.customer_id, 1 AS leads, n.created_at AS added, NULL::timestamptz AS removed FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id WHERE (o.customer_id, o.created_at) IS DISTINCT FROM (n.customer_id, n.created_at) AND n.customer_id IS NOT NULL) AS ch)\nORDER BY id FOR NO KEY UPDATE;\nUPDATE customer AS c SET\nsort_leads_count = c.sort_leads_count + d.leads,\nsort_last_interaction_at = CASE\nWHEN d.removed IS NOT NULL AND (\nc.sort_last_interaction_at IS NULL OR d.removed >= c.sort_last_interaction_at\n) THEN GREATEST(\n(SELECT max(x.created_at) FROM leads AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM call_log AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM whatsapp_message AS x WHERE x.customer_id = c.id)\n)\nELSE GREATEST(c.sort_last_interaction_at, d.added)\nEND\nFROM (\nSELECT ch.customer_id, sum(ch.leads) AS leads, max(ch.added) AS added,\nmax(ch.removed) AS removed\nFROM (SELECT o.customer_id, -1 AS leads, NULL::timestamptz AS added, o.created_at AS removed FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id WHERE (o.customer_id, o.created_at) IS DISTINCT FROM (n.customer_id, n.created_at) AND o.customer_id IS NOT NULL UNION ALL SELECT n.customer_id, 1 AS leads, n.created_at AS added, NULL::timestamptz AS removed FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id WHERE (o.customer_id, o.created_at) IS DISTINCT FROM (n.customer_id, n.created_at) AND n.customer_id IS NOT NULL) AS ch\nGROUP BY ch.customer_id\n) AS d\nWHERE c.id = d.customer_id;\nINSERT INTO tenant_stats_counter AS t (business_id, slot, leads, leads_from_calls, leads_converted_from_calls, leads_from_whatsapp, leads_converted_from_whatsapp, leads_meeting_ready)\nSELECT r.tenant_id, (pg_backend_pid() % 16)::smallint, sum(r.sign * 1), sum(r.sign * (r.source = 'call')::int), sum(r.sign * (r.source = 'call' AND r.status IN ('qualified', 'won'))::int), sum(r.sign * (r.source = 'whatsapp')::int), sum(r.sign * (r.source = 'whatsapp' AND r.status IN ('qualified', 'won'))::int), sum(r.sign * (r.status = 'qualified')::int)\nFROM (SELECT 1 AS sign, n.* FROM new_rows AS n UNION ALL SELECT -1 AS sign, o.* FROM old_rows AS o) AS r\nGROUP BY r.tenant_id\nHAVING sum(r.sign * 1) <> 0 OR sum(r.sign * (r.source = 'call')::int) <> 0 OR sum(r.sign * (r.source = 'call' AND r.status IN ('qualified', 'won'))::int) <> 0 OR sum(r.sign * (r.source = 'whatsapp')::int) <> 0 OR sum(r.sign * (r.source = 'whatsapp' AND r.status IN ('qualified', 'won'))::int) <> 0 OR sum(r.sign * (r.status = 'qualified')::int) <> 0\nORDER BY r.tenant_id\nON CONFLICT (business_id, slot) DO UPDATE SET\nleads = t.leads + EXCLUDED.leads, leads_from_calls = t.leads_from_calls + EXCLUDED.leads_from_calls, leads_converted_from_calls = t.leads_converted_from_calls + EXCLUDED.leads_converted_from_calls, leads_from_whatsapp = t.leads_from_whatsapp + EXCLUDED.leads_from_whatsapp, leads_converted_from_whatsapp = t.leads_converted_from_whatsapp + EXCLUDED.leads_converted_from_whatsapp, leads_meeting_ready = t.leads_meeting_ready + EXCLUDED.leads_meeting_ready;\nINSERT INTO tenant_stats_bucket AS t (business_id, bucket_start, slot, leads)\nSELECT r.tenant_id, date_bin('15 minutes', r.created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'), (pg_backend_pid() % 16)::smallint, sum(r.sign)\nFROM (SELECT 1 AS sign, n.* FROM new_rows AS n UNION ALL SELECT -1 AS sign, o.* FROM old_rows AS o) AS r\nGROUP BY 1, 2\nHAVING sum(r.sign) <> 0\nORDER BY 1, 2\nON CONFLICT (business_id, bucket_start, slot) DO UPDATE SET\nleads = t.leads + EXCLUDED.leads; RETURN NULL;",
                            hash="860b7f3229059fa2515a9ade369d2e69fd91a2cb",
                            level="STATEMENT",
                            operation="UPDATE",
                            pgid="pgtrigger_leads_derived_update_ace9b",
                            referencing="REFERENCING OLD TABLE AS old_rows  NEW TABLE AS new_rows ",
                            table="leads",
                            when="AFTER",
                        ),
                    ),
                ),
                pgtrigger.migrations.AddTrigger(
                    model_name="lead",
                    trigger=pgtrigger.compiler.Trigger(
                        name="leads_derived_delete",
                        sql=pgtrigger.compiler.UpsertTriggerSql(
                            func="PERFORM 1 FROM customer\nWHERE id IN (SELECT ch.customer_id FROM (SELECT o.customer_id, -1 AS leads, NULL::timestamptz AS added, o.created_at AS removed FROM old_rows AS o WHERE o.customer_id IS NOT NULL) AS ch)\nORDER BY id FOR NO KEY UPDATE;\nUPDATE customer AS c SET\nsort_leads_count = c.sort_leads_count + d.leads,\nsort_last_interaction_at = CASE\nWHEN d.removed IS NOT NULL AND (\nc.sort_last_interaction_at IS NULL OR d.removed >= c.sort_last_interaction_at\n) THEN GREATEST(\n(SELECT max(x.created_at) FROM leads AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM call_log AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM whatsapp_message AS x WHERE x.customer_id = c.id)\n)\nELSE GREATEST(c.sort_last_interaction_at, d.added)\nEND\nFROM (\nSELECT ch.customer_id, sum(ch.leads) AS leads, max(ch.added) AS added,\nmax(ch.removed) AS removed\nFROM (SELECT o.customer_id, -1 AS leads, NULL::timestamptz AS added, o.created_at AS removed FROM old_rows AS o WHERE o.customer_id IS NOT NULL) AS ch\nGROUP BY ch.customer_id\n) AS d\nWHERE c.id = d.customer_id;\nINSERT INTO tenant_stats_counter AS t (business_id, slot, leads, leads_from_calls, leads_converted_from_calls, leads_from_whatsapp, leads_converted_from_whatsapp, leads_meeting_ready)\nSELECT r.tenant_id, (pg_backend_pid() % 16)::smallint, sum(r.sign * 1), sum(r.sign * (r.source = 'call')::int), sum(r.sign * (r.source = 'call' AND r.status IN ('qualified', 'won'))::int), sum(r.sign * (r.source = 'whatsapp')::int), sum(r.sign * (r.source = 'whatsapp' AND r.status IN ('qualified', 'won'))::int), sum(r.sign * (r.status = 'qualified')::int)\nFROM (SELECT -1 AS sign, o.* FROM old_rows AS o) AS r\nGROUP BY r.tenant_id\nHAVING sum(r.sign * 1) <> 0 OR sum(r.sign * (r.source = 'call')::int) <> 0 OR sum(r.sign * (r.source = 'call' AND r.status IN ('qualified', 'won'))::int) <> 0 OR sum(r.sign * (r.source = 'whatsapp')::int) <> 0 OR sum(r.sign * (r.source = 'whatsapp' AND r.status IN ('qualified', 'won'))::int) <> 0 OR sum(r.sign * (r.status = 'qualified')::int) <> 0\nORDER BY r.tenant_id\nON CONFLICT (business_id, slot) DO UPDATE SET\nleads = t.leads + EXCLUDED.leads, leads_from_calls = t.leads_from_calls + EXCLUDED.leads_from_calls, leads_converted_from_calls = t.leads_converted_from_calls + EXCLUDED.leads_converted_from_calls, leads_from_whatsapp = t.leads_from_whatsapp + EXCLUDED.leads_from_whatsapp, leads_converted_from_whatsapp = t.leads_converted_from_whatsapp + EXCLUDED.leads_converted_from_whatsapp, leads_meeting_ready = t.leads_meeting_ready + EXCLUDED.leads_meeting_ready;\nINSERT INTO tenant_stats_bucket AS t (business_id, bucket_start, slot, leads)\nSELECT r.tenant_id, date_bin('15 minutes', r.created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'), (pg_backend_pid() % 16)::smallint, sum(r.sign)\nFROM (SELECT -1 AS sign, o.* FROM old_rows AS o) AS r\nGROUP BY 1, 2\nHAVING sum(r.sign) <> 0\nORDER BY 1, 2\nON CONFLICT (business_id, bucket_start, slot) DO UPDATE SET\nleads = t.leads + EXCLUDED.leads; RETURN NULL;",
                            hash="c517ce05183f28f140e9c53467ededac81d84313",
                            level="STATEMENT",
                            operation="DELETE",
                            pgid="pgtrigger_leads_derived_delete_21192",
                            referencing="REFERENCING OLD TABLE AS old_rows ",
                            table="leads",
                            when="AFTER",
                        ),
                    ),
                ),
            ]
        ),
        prosaas.migrations.WithLockTimeout(
            [
                pgtrigger.migrations.AddTrigger(
                    model_name="whatsappmessage",
                    trigger=pgtrigger.compiler.Trigger(
                        name="whatsapp_message_derived_insert",
                        sql=pgtrigger.compiler.UpsertTriggerSql(
                            func="PERFORM 1 FROM customer\nWHERE id IN (SELECT ch.customer_id FROM (SELECT n.customer_id, 0 AS leads, n.created_at AS added, NULL::timestamptz AS removed FROM new_rows AS n WHERE n.customer_id IS NOT NULL) AS ch)\nORDER BY id FOR NO KEY UPDATE;\nUPDATE customer AS c SET\nsort_leads_count = c.sort_leads_count + d.leads,\nsort_last_interaction_at = CASE\nWHEN d.removed IS NOT NULL AND (\nc.sort_last_interaction_at IS NULL OR d.removed >= c.sort_last_interaction_at\n) THEN GREATEST(\n(SELECT max(x.created_at) FROM leads AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM call_log AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM whatsapp_message AS x WHERE x.customer_id = c.id)\n)\nELSE GREATEST(c.sort_last_interaction_at, d.added)\nEND\nFROM (\nSELECT ch.customer_id, sum(ch.leads) AS leads, max(ch.added) AS added,\nmax(ch.removed) AS removed\nFROM (SELECT n.customer_id, 0 AS leads, n.created_at AS added, NULL::timestamptz AS removed FROM new_rows AS n WHERE n.customer_id IS NOT NULL) AS ch\nGROUP BY ch.customer_id\n) AS d\nWHERE c.id = d.customer_id;\nINSERT INTO tenant_stats_counter AS t (business_id, slot, whatsapp, whatsapp_ai_processed)\nSELECT r.business_id, (pg_backend_pid() % 16)::smallint, sum(r.sign * 1), sum(r.sign * r.ai_generated::int)\nFROM (SELECT 1 AS sign, n.* FROM new_rows AS n) AS r\nGROUP BY r.business_id\nHAVING sum(r.sign * 1) <> 0 OR sum(r.sign * r.ai_generated::int) <> 0\nORDER BY r.business_id\nON CONFLICT (business_id, slot) DO UPDATE SET\nwhatsapp = t.whatsapp + EXCLUDED.whatsapp, whatsapp_ai_processed = t.whatsapp_ai_processed + EXCLUDED.whatsapp_ai_processed; RETURN NULL;",
                            hash="4e0575e6603a31ff4641888a88049fbce5d743b9",
                            level="STATEMENT",
                            operation="INSERT",
                            pgid="pgtrigger_whatsapp_message_derived_insert_40c85",
                            referencing="REFERENCING NEW TABLE AS new_rows ",
                            table="whatsapp_message",
                            when="AFTER",
                        ),
                    ),
                ),
                pgtrigger.migrations.AddTrigger(
                    model_name="whatsappmessage",
                    trigger=pgtrigger.compiler.Trigger(
                        name="whatsapp_message_derived_update",
                        sql=pgtrigger.compiler.UpsertTriggerSql(
                            func="PERFORM 1 FROM customer\nWHERE id IN (SELECT ch.customer_id FROM (SELECT o.customer_id, -0 AS leads, NULL::timestamptz AS added, o.created_at AS removed FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id WHERE (o.customer_id, o.created_at) IS DISTINCT FROM (n.customer_id, n.created_at) AND o.customer_id IS NOT NULL UNION ALL SELECT n.customer_id, 0 AS leads, n.created_at AS added, NULL::timestamptz AS removed FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id WHERE (o.customer_id, o.created_at) IS DISTINCT FROM (n.customer_id, n.created_at) AND n.customer_id IS NOT NULL) AS ch)\nORDER BY id FOR NO KEY UPDATE;\nUPDATE customer AS c SET\nsort_leads_count = c.sort_leads_count + d.leads,\nsort_last_interaction_at = CASE\nWHEN d.removed IS NOT NULL AND (\nc.sort_last_interaction_at IS NULL OR d.removed >= c.sort_last_interaction_at\n) THEN GREATEST(\n(SELECT max(x.created_at) FROM leads AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM call_log AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM whatsapp_message AS x WHERE x.customer_id = c.id)\n)\nELSE GREATEST(c.sort_last_interaction_at, d.added)\nEND\nFROM (\nSELECT ch.customer_id, sum(ch.leads) AS leads, max(ch.added) AS added,\nmax(ch.removed) AS removed\nFROM (SELECT o.customer_id, -0 AS leads, NULL::timestamptz AS added, o.created_at AS removed FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id WHERE (o.customer_id, o.created_at) IS DISTINCT FROM (n.customer_id, n.created_at) AND o.customer_id IS NOT NULL UNION ALL SELECT n.customer_id, 0 AS leads, n.created_at AS added, NULL::timestamptz AS removed FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id WHERE (o.customer_id, o.created_at) IS DISTINCT FROM (n.customer_id, n.created_at) AND n.customer_id IS NOT NULL) AS ch\nGROUP BY ch.customer_id\n) AS d\nWHERE c.id = d.customer_id;\nINSERT INTO tenant_stats_counter AS t (business_id, slot, whatsapp, whatsapp_ai_processed)\nSELECT r.business_id, (pg_backend_pid() % 16)::smallint, sum(r.sign * 1), sum(r.sign * r.ai_generated::int)\nFROM (SELECT 1 AS sign, n.* FROM new_rows AS n UNION ALL SELECT -1 AS sign, o.* FROM old_rows AS o) AS r\nGROUP BY r.business_id\nHAVING sum(r.sign * 1) <> 0 OR sum(r.sign * r.ai_generated::int) <> 0\nORDER BY r.business_id\nON CONFLICT (business_id, slot) DO UPDATE SET\nwhatsapp = t.whatsapp + EXCLUDED.whatsapp, whatsapp_ai_processed = t.whatsapp_ai_processed + EXCLUDED.whatsapp_ai_processed; RETURN NULL;",
                            hash="fcd1822de79884e7faeeef52f4e0c04d8fe5e875",
                            level="STATEMENT",
                            operation="UPDATE",
                            pgid="pgtrigger_whatsapp_message_derived_update_491fa",
                            referencing="REFERENCING OLD TABLE AS old_rows  NEW TABLE AS new_rows ",
                            table="whatsapp_message",
                            when="AFTER",
                        ),
                    ),
                ),
                pgtrigger.migrations.AddTrigger(
                    model_name="whatsappmessage",
                    trigger=pgtrigger.compiler.Trigger(
                        name="whatsapp_message_derived_delete",
                        sql=pgtrigger.compiler.UpsertTriggerSql(
                            func="PERFORM 1 FROM customer\nWHERE id IN (SELECT ch.customer_id FROM (SELECT o.customer_id, -0 AS leads, NULL::timestamptz AS added, o.created_at AS removed FROM old_rows AS o WHERE o.customer_id IS NOT NULL) AS ch)\nORDER BY id FOR NO KEY UPDATE;\nUPDATE customer AS c SET\nsort_leads_count = c.sort_leads_count + d.leads,\nsort_last_interaction_at = CASE\nWHEN d.removed IS NOT NULL AND (\nc.sort_last_interaction_at IS NULL OR d.removed >= c.sort_last_interaction_at\n) THEN GREATEST(\n(SELECT max(x.created_at) FROM leads AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM call_log AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM whatsapp_message AS x WHERE x.customer_id = c.id)\n)\nELSE GREATEST(c.sort_last_interaction_at, d.added)\nEND\nFROM (\nSELECT ch.customer_id, sum(ch.leads) AS leads, max(ch.added) AS added,\nmax(ch.removed) AS removed\nFROM (SELECT o.customer_id, -0 AS leads, NULL::timestamptz AS added, o.created_at AS removed FROM old_rows AS o WHERE o.customer_id IS NOT NULL) AS ch\nGROUP BY ch.customer_id\n) AS d\nWHERE c.id = d.customer_id;\nINSERT INTO tenant_stats_counter AS t (business_id, slot, whatsapp, whatsapp_ai_processed)\nSELECT r.business_id, (pg_backend_pid() % 16)::smallint, sum(r.sign * 1), sum(r.sign * r.ai_generated::int)\nFROM (SELECT -1 AS sign, o.* FROM old_rows AS o) AS r\nGROUP BY r.business_id\nHAVING sum(r.sign * 1) <> 0 OR sum(r.sign * r.ai_generated::int) <> 0\nORDER BY r.business_id\nON CONFLICT (business_id, slot) DO UPDATE SET\nwhatsapp = t.whatsapp + EXCLUDED.whatsapp, whatsapp_ai_processed = t.whatsapp_ai_processed + EXCLUDED.whatsapp_ai_processed; RETURN NULL;",
                            hash="b1f60e46e51af1b5fb1cc6aa0f77b67fa71b5a9f",
                            level="STATEMENT",
                            operation="DELETE",
                            pgid="pgtrigger_whatsapp_message_derived_delete_15210",
                            referencing="REFERENCING OLD TABLE AS old_rows ",
                            table="whatsapp_message",
                            when="AFTER",
                        ),
                    ),
                ),
            ]
        ),
    ]
