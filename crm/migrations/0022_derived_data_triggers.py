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
        ("crm", "0021_tenant_stats_counters"),
    ]

    operations = [
        prosaas.migrations.WithLockTimeout(
            [
                pgtrigger.migrations.AddTrigger(
                    model_name="calllog",
                    trigger=pgtrigger.compiler.Trigger(
                        name="call_log_derived_insert",
                        sql=pgtrigger.compiler.UpsertTriggerSql(
                            func="UPDATE customer AS c SET\nsort_leads_count = c.sort_leads_count + d.leads,\nsort_last_interaction_at = GREATEST(c.sort_last_interaction_at, d.added)\nFROM (\nSELECT locked.id, a.leads, a.added\nFROM customer AS locked JOIN (\nSELECT ch.customer_id, sum(ch.leads) AS leads, max(ch.added) AS added,\nmax(ch.removed) AS removed\nFROM (SELECT n.customer_id, 0 AS leads, n.created_at AS added, NULL::timestamptz AS removed FROM new_rows AS n WHERE n.customer_id IS NOT NULL) AS ch\nGROUP BY ch.customer_id\n) AS a ON a.customer_id = locked.id\nORDER BY locked.id\nFOR NO KEY UPDATE OF locked\n) AS d\nWHERE c.id = d.id;\nINSERT INTO tenant_stats_counter AS t (business_id, slot, calls, calls_ai_processed)\nSELECT r.business_id, (pg_backend_pid() % 16)::smallint, sum(r.sign * 1), sum(r.sign * (r.summary <> '')::int)\nFROM (SELECT 1 AS sign, n.* FROM new_rows AS n) AS r\nGROUP BY r.business_id\nHAVING sum(r.sign * 1) <> 0 OR sum(r.sign * (r.summary <> '')::int) <> 0\nORDER BY r.business_id\nON CONFLICT (business_id, slot) DO UPDATE SET\ncalls = t.calls + EXCLUDED.calls, calls_ai_processed = t.calls_ai_processed + EXCLUDED.calls_ai_processed; RETURN NULL;",
                            hash="7d5e86a6a0e82566d8d5a164dc7f0502d4dc4e3b",
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
                            func="NEW.sort_leads_count := 0;\nNEW.sort_last_interaction_at := NULL;\nRETURN NEW;",
                            hash="9f6367e54cb185ad096ba015232340b2446e0314",
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
                            condition="WHEN (pg_trigger_depth() < 1 AND (OLD.sort_leads_count, OLD.sort_last_interaction_at) IS DISTINCT FROM (NEW.sort_leads_count, NEW.sort_last_interaction_at))",
                            func="IF coalesce(current_setting('crm.sort_keys_writer', true), '') <> 'on'\nTHEN\nNEW.sort_leads_count := OLD.sort_leads_count;\nNEW.sort_last_interaction_at := OLD.sort_last_interaction_at;\nEND IF;\nRETURN NEW;",
                            hash="afc7909104feedecc4f957c7b20dce9b40c1d963",
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
                            condition="WHEN ((OLD.business_id, OLD.created_at) IS DISTINCT FROM (NEW.business_id, NEW.created_at))",
                            func="INSERT INTO tenant_stats_counter AS t (business_id, slot, customers)\nSELECT r.business_id, (pg_backend_pid() % 16)::smallint, sum(r.sign * 1)\nFROM (\nSELECT 1 AS sign, NEW.business_id AS business_id,\nNEW.created_at AS created_at\nUNION ALL SELECT -1, OLD.business_id, OLD.created_at\n) AS r\nGROUP BY r.business_id\nHAVING sum(r.sign * 1) <> 0\nORDER BY r.business_id\nON CONFLICT (business_id, slot) DO UPDATE SET\ncustomers = t.customers + EXCLUDED.customers;\nINSERT INTO tenant_stats_bucket AS t (business_id, bucket_start, slot, customers)\nSELECT r.business_id, date_bin('15 minutes', r.created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'), (pg_backend_pid() % 16)::smallint, sum(r.sign)\nFROM (\nSELECT 1 AS sign, NEW.business_id AS business_id,\nNEW.created_at AS created_at\nUNION ALL SELECT -1, OLD.business_id, OLD.created_at\n) AS r\nGROUP BY 1, 2\nHAVING sum(r.sign) <> 0\nORDER BY 1, 2\nON CONFLICT (business_id, bucket_start, slot) DO UPDATE SET\ncustomers = t.customers + EXCLUDED.customers; RETURN NULL;",
                            hash="5755a8126140d7907325985539d70586af7cc089",
                            operation="UPDATE",
                            pgid="pgtrigger_customer_derived_update_8cd82",
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
                            func="UPDATE customer AS c SET\nsort_leads_count = c.sort_leads_count + d.leads,\nsort_last_interaction_at = GREATEST(c.sort_last_interaction_at, d.added)\nFROM (\nSELECT locked.id, a.leads, a.added\nFROM customer AS locked JOIN (\nSELECT ch.customer_id, sum(ch.leads) AS leads, max(ch.added) AS added,\nmax(ch.removed) AS removed\nFROM (SELECT n.customer_id, 1 AS leads, n.created_at AS added, NULL::timestamptz AS removed FROM new_rows AS n WHERE n.customer_id IS NOT NULL) AS ch\nGROUP BY ch.customer_id\n) AS a ON a.customer_id = locked.id\nORDER BY locked.id\nFOR NO KEY UPDATE OF locked\n) AS d\nWHERE c.id = d.id;\nINSERT INTO tenant_stats_counter AS t (business_id, slot, leads, leads_from_calls, leads_converted_from_calls, leads_from_whatsapp, leads_converted_from_whatsapp, leads_meeting_ready)\nSELECT r.tenant_id, (pg_backend_pid() % 16)::smallint, sum(r.sign * 1), sum(r.sign * (r.source = 'call')::int), sum(r.sign * (r.source = 'call' AND r.status IN ('qualified', 'won'))::int), sum(r.sign * (r.source = 'whatsapp')::int), sum(r.sign * (r.source = 'whatsapp' AND r.status IN ('qualified', 'won'))::int), sum(r.sign * (r.status = 'qualified')::int)\nFROM (SELECT 1 AS sign, n.* FROM new_rows AS n) AS r\nGROUP BY r.tenant_id\nHAVING sum(r.sign * 1) <> 0 OR sum(r.sign * (r.source = 'call')::int) <> 0 OR sum(r.sign * (r.source = 'call' AND r.status IN ('qualified', 'won'))::int) <> 0 OR sum(r.sign * (r.source = 'whatsapp')::int) <> 0 OR sum(r.sign * (r.source = 'whatsapp' AND r.status IN ('qualified', 'won'))::int) <> 0 OR sum(r.sign * (r.status = 'qualified')::int) <> 0\nORDER BY r.tenant_id\nON CONFLICT (business_id, slot) DO UPDATE SET\nleads = t.leads + EXCLUDED.leads, leads_from_calls = t.leads_from_calls + EXCLUDED.leads_from_calls, leads_converted_from_calls = t.leads_converted_from_calls + EXCLUDED.leads_converted_from_calls, leads_from_whatsapp = t.leads_from_whatsapp + EXCLUDED.leads_from_whatsapp, leads_converted_from_whatsapp = t.leads_converted_from_whatsapp + EXCLUDED.leads_converted_from_whatsapp, leads_meeting_ready = t.leads_meeting_ready + EXCLUDED.leads_meeting_ready;\nINSERT INTO tenant_stats_bucket AS t (business_id, bucket_start, slot, leads)\nSELECT r.tenant_id, date_bin('15 minutes', r.created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'), (pg_backend_pid() % 16)::smallint, sum(r.sign)\nFROM (SELECT 1 AS sign, n.* FROM new_rows AS n) AS r\nGROUP BY 1, 2\nHAVING sum(r.sign) <> 0\nORDER BY 1, 2\nON CONFLICT (business_id, bucket_start, slot) DO UPDATE SET\nleads = t.leads + EXCLUDED.leads; RETURN NULL;",
                            hash="9d490573c39e60e503c8c757ed003ec76643ceeb",
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
                            func="UPDATE customer AS c SET\nsort_leads_count = c.sort_leads_count + d.leads,\nsort_last_interaction_at = GREATEST(c.sort_last_interaction_at, d.added)\nFROM (\nSELECT locked.id, a.leads, a.added\nFROM customer AS locked JOIN (\nSELECT ch.customer_id, sum(ch.leads) AS leads, max(ch.added) AS added,\nmax(ch.removed) AS removed\nFROM (SELECT n.customer_id, 0 AS leads, n.created_at AS added, NULL::timestamptz AS removed FROM new_rows AS n WHERE n.customer_id IS NOT NULL) AS ch\nGROUP BY ch.customer_id\n) AS a ON a.customer_id = locked.id\nORDER BY locked.id\nFOR NO KEY UPDATE OF locked\n) AS d\nWHERE c.id = d.id;\nINSERT INTO tenant_stats_counter AS t (business_id, slot, whatsapp, whatsapp_ai_processed)\nSELECT r.business_id, (pg_backend_pid() % 16)::smallint, sum(r.sign * 1), sum(r.sign * r.ai_generated::int)\nFROM (SELECT 1 AS sign, n.* FROM new_rows AS n) AS r\nGROUP BY r.business_id\nHAVING sum(r.sign * 1) <> 0 OR sum(r.sign * r.ai_generated::int) <> 0\nORDER BY r.business_id\nON CONFLICT (business_id, slot) DO UPDATE SET\nwhatsapp = t.whatsapp + EXCLUDED.whatsapp, whatsapp_ai_processed = t.whatsapp_ai_processed + EXCLUDED.whatsapp_ai_processed; RETURN NULL;",
                            hash="5db169453a374e185809caff6defe78524d433ba",
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
