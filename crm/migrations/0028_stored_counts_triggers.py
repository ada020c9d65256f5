"""The triggers keep each customer's call and WhatsApp counts too (crm/triggers.py).

Generated from the models' ``Meta.triggers``. Each table's triggers are replaced in one
transaction (the old ones dropped, the new ones created), so no write of that table runs
with none or with only some; ``CREATE TRIGGER`` takes a SHARE ROW EXCLUSIVE lock, so each
table's swap runs under a short lock_timeout with retries, as 0022 did.
"""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations

import prosaas.migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("crm", "0027_customer_stored_counts"),
    ]

    operations = [
        prosaas.migrations.WithLockTimeout(
            [
                pgtrigger.migrations.RemoveTrigger(
                    model_name="calllog",
                    name="call_log_derived_insert",
                ),
                pgtrigger.migrations.RemoveTrigger(
                    model_name="calllog",
                    name="call_log_derived_update",
                ),
                pgtrigger.migrations.RemoveTrigger(
                    model_name="calllog",
                    name="call_log_derived_delete",
                ),
                pgtrigger.migrations.AddTrigger(
                    model_name="calllog",
                    trigger=pgtrigger.compiler.Trigger(
                        name="call_log_derived_insert",
                        sql=pgtrigger.compiler.UpsertTriggerSql(
                            func="INSERT INTO tenant_stats_counter AS t (business_id, slot, calls, calls_ai_processed)\nSELECT r.business_id, (pg_backend_pid() % 16)::smallint, sum(r.sign * 1), sum(r.sign * (r.summary <> '')::int)\nFROM (SELECT 1 AS sign, n.* FROM new_rows AS n) AS r\nGROUP BY r.business_id\nHAVING sum(r.sign * 1) <> 0 OR sum(r.sign * (r.summary <> '')::int) <> 0\nORDER BY r.business_id\nON CONFLICT (business_id, slot) DO UPDATE SET\ncalls = t.calls + EXCLUDED.calls, calls_ai_processed = t.calls_ai_processed + EXCLUDED.calls_ai_processed;\nUPDATE customer AS c SET\nstored_calls_count = c.stored_calls_count + d.n,\nsort_last_interaction_at = GREATEST(c.sort_last_interaction_at, d.added)\nFROM (\nSELECT locked.id, a.n, a.added\nFROM customer AS locked JOIN (\nSELECT ch.customer_id, sum(ch.n) AS n, max(ch.added) AS added,\nmax(ch.removed) AS removed\nFROM (SELECT n.customer_id, 1 AS n, n.created_at AS added, NULL::timestamptz AS removed FROM new_rows AS n WHERE n.customer_id IS NOT NULL) AS ch\nGROUP BY ch.customer_id\n) AS a ON a.customer_id = locked.id\nORDER BY locked.id\nFOR NO KEY UPDATE OF locked\n) AS d\nWHERE c.id = d.id; RETURN NULL;",
                            hash="5b97ea8330a8db87f85a6b7523920f221cedbf5b",
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
                            func="INSERT INTO tenant_stats_counter AS t (business_id, slot, calls, calls_ai_processed)\nSELECT r.business_id, (pg_backend_pid() % 16)::smallint, sum(r.sign * 1), sum(r.sign * (r.summary <> '')::int)\nFROM (SELECT 1 AS sign, n.* FROM new_rows AS n UNION ALL SELECT -1 AS sign, o.* FROM old_rows AS o) AS r\nGROUP BY r.business_id\nHAVING sum(r.sign * 1) <> 0 OR sum(r.sign * (r.summary <> '')::int) <> 0\nORDER BY r.business_id\nON CONFLICT (business_id, slot) DO UPDATE SET\ncalls = t.calls + EXCLUDED.calls, calls_ai_processed = t.calls_ai_processed + EXCLUDED.calls_ai_processed;\nPERFORM 1 FROM customer\nWHERE id IN (SELECT ch.customer_id FROM (SELECT o.customer_id, -1 AS n, NULL::timestamptz AS added, o.created_at AS removed FROM old_rows AS o FULL JOIN new_rows AS n ON n.id = o.id WHERE (o.id, o.customer_id, o.created_at) IS DISTINCT FROM (n.id, n.customer_id, n.created_at) AND o.customer_id IS NOT NULL UNION ALL SELECT n.customer_id, 1 AS n, n.created_at AS added, NULL::timestamptz AS removed FROM old_rows AS o FULL JOIN new_rows AS n ON n.id = o.id WHERE (o.id, o.customer_id, o.created_at) IS DISTINCT FROM (n.id, n.customer_id, n.created_at) AND n.customer_id IS NOT NULL) AS ch)\nORDER BY id FOR NO KEY UPDATE;\nUPDATE customer AS c SET\nstored_calls_count = c.stored_calls_count + d.n,\nsort_last_interaction_at = CASE\nWHEN d.removed IS NOT NULL AND (\nc.sort_last_interaction_at IS NULL OR d.removed >= c.sort_last_interaction_at\n) THEN GREATEST(\n(SELECT max(x.created_at) FROM leads AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM call_log AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM whatsapp_message AS x WHERE x.customer_id = c.id)\n)\nELSE GREATEST(c.sort_last_interaction_at, d.added)\nEND\nFROM (\nSELECT ch.customer_id, sum(ch.n) AS n, max(ch.added) AS added,\nmax(ch.removed) AS removed\nFROM (SELECT o.customer_id, -1 AS n, NULL::timestamptz AS added, o.created_at AS removed FROM old_rows AS o FULL JOIN new_rows AS n ON n.id = o.id WHERE (o.id, o.customer_id, o.created_at) IS DISTINCT FROM (n.id, n.customer_id, n.created_at) AND o.customer_id IS NOT NULL UNION ALL SELECT n.customer_id, 1 AS n, n.created_at AS added, NULL::timestamptz AS removed FROM old_rows AS o FULL JOIN new_rows AS n ON n.id = o.id WHERE (o.id, o.customer_id, o.created_at) IS DISTINCT FROM (n.id, n.customer_id, n.created_at) AND n.customer_id IS NOT NULL) AS ch\nGROUP BY ch.customer_id\n) AS d\nWHERE c.id = d.customer_id; RETURN NULL;",
                            hash="f8ac2eaf6669f1052fde69a397a332f9cd518efb",
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
                            func="INSERT INTO tenant_stats_counter AS t (business_id, slot, calls, calls_ai_processed)\nSELECT r.business_id, (pg_backend_pid() % 16)::smallint, sum(r.sign * 1), sum(r.sign * (r.summary <> '')::int)\nFROM (SELECT -1 AS sign, o.* FROM old_rows AS o) AS r\nGROUP BY r.business_id\nHAVING sum(r.sign * 1) <> 0 OR sum(r.sign * (r.summary <> '')::int) <> 0\nORDER BY r.business_id\nON CONFLICT (business_id, slot) DO UPDATE SET\ncalls = t.calls + EXCLUDED.calls, calls_ai_processed = t.calls_ai_processed + EXCLUDED.calls_ai_processed;\nPERFORM 1 FROM customer\nWHERE id IN (SELECT ch.customer_id FROM (SELECT o.customer_id, -1 AS n, NULL::timestamptz AS added, o.created_at AS removed FROM old_rows AS o WHERE o.customer_id IS NOT NULL) AS ch)\nORDER BY id FOR NO KEY UPDATE;\nUPDATE customer AS c SET\nstored_calls_count = c.stored_calls_count + d.n,\nsort_last_interaction_at = CASE\nWHEN d.removed IS NOT NULL AND (\nc.sort_last_interaction_at IS NULL OR d.removed >= c.sort_last_interaction_at\n) THEN GREATEST(\n(SELECT max(x.created_at) FROM leads AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM call_log AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM whatsapp_message AS x WHERE x.customer_id = c.id)\n)\nELSE GREATEST(c.sort_last_interaction_at, d.added)\nEND\nFROM (\nSELECT ch.customer_id, sum(ch.n) AS n, max(ch.added) AS added,\nmax(ch.removed) AS removed\nFROM (SELECT o.customer_id, -1 AS n, NULL::timestamptz AS added, o.created_at AS removed FROM old_rows AS o WHERE o.customer_id IS NOT NULL) AS ch\nGROUP BY ch.customer_id\n) AS d\nWHERE c.id = d.customer_id; RETURN NULL;",
                            hash="20600eade6970b0e63b73162e760bd195c723a2b",
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
                pgtrigger.migrations.RemoveTrigger(
                    model_name="customer",
                    name="customer_sort_keys_on_insert",
                ),
                pgtrigger.migrations.RemoveTrigger(
                    model_name="customer",
                    name="customer_sort_keys_guard",
                ),
                pgtrigger.migrations.AddTrigger(
                    model_name="customer",
                    trigger=pgtrigger.compiler.Trigger(
                        name="customer_sort_keys_on_insert",
                        sql=pgtrigger.compiler.UpsertTriggerSql(
                            func="NEW.sort_leads_count := 0; NEW.stored_calls_count := 0; NEW.stored_whatsapp_count := 0; NEW.sort_last_interaction_at := NULL; RETURN NEW;",
                            hash="798e29538ec7c24e3f6d458c1bc8f2f3d6d9582f",
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
                            condition="WHEN (pg_trigger_depth() < 1 AND (OLD.sort_leads_count, OLD.stored_calls_count, OLD.stored_whatsapp_count, OLD.sort_last_interaction_at) IS DISTINCT FROM (NEW.sort_leads_count, NEW.stored_calls_count, NEW.stored_whatsapp_count, NEW.sort_last_interaction_at))",
                            func="IF coalesce(current_setting('crm.sort_keys_writer', true), '') <> 'on' THEN NEW.sort_leads_count := OLD.sort_leads_count; NEW.stored_calls_count := OLD.stored_calls_count; NEW.stored_whatsapp_count := OLD.stored_whatsapp_count; NEW.sort_last_interaction_at := OLD.sort_last_interaction_at; END IF; RETURN NEW;",
                            hash="4aee70fdd8385e89afc447c8e2dd764d3ae83228",
                            operation="UPDATE",
                            pgid="pgtrigger_customer_sort_keys_guard_0d761",
                            table="customer",
                            when="BEFORE",
                        ),
                    ),
                ),
            ]
        ),
        prosaas.migrations.WithLockTimeout(
            [
                pgtrigger.migrations.RemoveTrigger(
                    model_name="lead",
                    name="leads_derived_insert",
                ),
                pgtrigger.migrations.RemoveTrigger(
                    model_name="lead",
                    name="leads_derived_update",
                ),
                pgtrigger.migrations.RemoveTrigger(
                    model_name="lead",
                    name="leads_derived_delete",
                ),
                pgtrigger.migrations.AddTrigger(
                    model_name="lead",
                    trigger=pgtrigger.compiler.Trigger(
                        name="leads_derived_insert",
                        sql=pgtrigger.compiler.UpsertTriggerSql(
                            func="INSERT INTO tenant_stats_counter AS t (business_id, slot, leads, leads_from_calls, leads_converted_from_calls, leads_from_whatsapp, leads_converted_from_whatsapp, leads_meeting_ready)\nSELECT r.tenant_id, (pg_backend_pid() % 16)::smallint, sum(r.sign * 1), sum(r.sign * (r.source = 'call')::int), sum(r.sign * (r.source = 'call' AND r.status IN ('qualified', 'won'))::int), sum(r.sign * (r.source = 'whatsapp')::int), sum(r.sign * (r.source = 'whatsapp' AND r.status IN ('qualified', 'won'))::int), sum(r.sign * (r.status = 'qualified')::int)\nFROM (SELECT 1 AS sign, n.* FROM new_rows AS n) AS r\nGROUP BY r.tenant_id\nHAVING sum(r.sign * 1) <> 0 OR sum(r.sign * (r.source = 'call')::int) <> 0 OR sum(r.sign * (r.source = 'call' AND r.status IN ('qualified', 'won'))::int) <> 0 OR sum(r.sign * (r.source = 'whatsapp')::int) <> 0 OR sum(r.sign * (r.source = 'whatsapp' AND r.status IN ('qualified', 'won'))::int) <> 0 OR sum(r.sign * (r.status = 'qualified')::int) <> 0\nORDER BY r.tenant_id\nON CONFLICT (business_id, slot) DO UPDATE SET\nleads = t.leads + EXCLUDED.leads, leads_from_calls = t.leads_from_calls + EXCLUDED.leads_from_calls, leads_converted_from_calls = t.leads_converted_from_calls + EXCLUDED.leads_converted_from_calls, leads_from_whatsapp = t.leads_from_whatsapp + EXCLUDED.leads_from_whatsapp, leads_converted_from_whatsapp = t.leads_converted_from_whatsapp + EXCLUDED.leads_converted_from_whatsapp, leads_meeting_ready = t.leads_meeting_ready + EXCLUDED.leads_meeting_ready;\nINSERT INTO tenant_stats_bucket AS t (business_id, bucket_start, slot, leads)\nSELECT r.tenant_id, date_bin('15 minutes', r.created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'), (pg_backend_pid() % 16)::smallint, sum(r.sign)\nFROM (SELECT 1 AS sign, n.* FROM new_rows AS n) AS r\nGROUP BY 1, 2\nHAVING sum(r.sign) <> 0\nORDER BY 1, 2\nON CONFLICT (business_id, bucket_start, slot) DO UPDATE SET\nleads = t.leads + EXCLUDED.leads;\nUPDATE customer AS c SET\nsort_leads_count = c.sort_leads_count + d.n,\nsort_last_interaction_at = GREATEST(c.sort_last_interaction_at, d.added)\nFROM (\nSELECT locked.id, a.n, a.added\nFROM customer AS locked JOIN (\nSELECT ch.customer_id, sum(ch.n) AS n, max(ch.added) AS added,\nmax(ch.removed) AS removed\nFROM (SELECT n.customer_id, 1 AS n, n.created_at AS added, NULL::timestamptz AS removed FROM new_rows AS n WHERE n.customer_id IS NOT NULL) AS ch\nGROUP BY ch.customer_id\n) AS a ON a.customer_id = locked.id\nORDER BY locked.id\nFOR NO KEY UPDATE OF locked\n) AS d\nWHERE c.id = d.id; RETURN NULL;",
                            hash="56f7c056ce1f1da5d681d379b56f7416e0d78f79",
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
                            func="INSERT INTO tenant_stats_counter AS t (business_id, slot, leads, leads_from_calls, leads_converted_from_calls, leads_from_whatsapp, leads_converted_from_whatsapp, leads_meeting_ready)\nSELECT r.tenant_id, (pg_backend_pid() % 16)::smallint, sum(r.sign * 1), sum(r.sign * (r.source = 'call')::int), sum(r.sign * (r.source = 'call' AND r.status IN ('qualified', 'won'))::int), sum(r.sign * (r.source = 'whatsapp')::int), sum(r.sign * (r.source = 'whatsapp' AND r.status IN ('qualified', 'won'))::int), sum(r.sign * (r.status = 'qualified')::int)\nFROM (SELECT 1 AS sign, n.* FROM new_rows AS n UNION ALL SELECT -1 AS sign, o.* FROM old_rows AS o) AS r\nGROUP BY r.tenant_id\nHAVING sum(r.sign * 1) <> 0 OR sum(r.sign * (r.source = 'call')::int) <> 0 OR sum(r.sign * (r.source = 'call' AND r.status IN ('qualified', 'won'))::int) <> 0 OR sum(r.sign * (r.source = 'whatsapp')::int) <> 0 OR sum(r.sign * (r.source = 'whatsapp' AND r.status IN ('qualified', 'won'))::int) <> 0 OR sum(r.sign * (r.status = 'qualified')::int) <> 0\nORDER BY r.tenant_id\nON CONFLICT (business_id, slot) DO UPDATE SET\nleads = t.leads + EXCLUDED.leads, leads_from_calls = t.leads_from_calls + EXCLUDED.leads_from_calls, leads_converted_from_calls = t.leads_converted_from_calls + EXCLUDED.leads_converted_from_calls, leads_from_whatsapp = t.leads_from_whatsapp + EXCLUDED.leads_from_whatsapp, leads_converted_from_whatsapp = t.leads_converted_from_whatsapp + EXCLUDED.leads_converted_from_whatsapp, leads_meeting_ready = t.leads_meeting_ready + EXCLUDED.leads_meeting_ready;\nINSERT INTO tenant_stats_bucket AS t (business_id, bucket_start, slot, leads)\nSELECT r.tenant_id, date_bin('15 minutes', r.created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'), (pg_backend_pid() % 16)::smallint, sum(r.sign)\nFROM (SELECT 1 AS sign, n.* FROM new_rows AS n UNION ALL SELECT -1 AS sign, o.* FROM old_rows AS o) AS r\nGROUP BY 1, 2\nHAVING sum(r.sign) <> 0\nORDER BY 1, 2\nON CONFLICT (business_id, bucket_start, slot) DO UPDATE SET\nleads = t.leads + EXCLUDED.leads;\nPERFORM 1 FROM customer\nWHERE id IN (SELECT ch.customer_id FROM (SELECT o.customer_id, -1 AS n, NULL::timestamptz AS added, o.created_at AS removed FROM old_rows AS o FULL JOIN new_rows AS n ON n.id = o.id WHERE (o.id, o.customer_id, o.created_at) IS DISTINCT FROM (n.id, n.customer_id, n.created_at) AND o.customer_id IS NOT NULL UNION ALL SELECT n.customer_id, 1 AS n, n.created_at AS added, NULL::timestamptz AS removed FROM old_rows AS o FULL JOIN new_rows AS n ON n.id = o.id WHERE (o.id, o.customer_id, o.created_at) IS DISTINCT FROM (n.id, n.customer_id, n.created_at) AND n.customer_id IS NOT NULL) AS ch)\nORDER BY id FOR NO KEY UPDATE;\nUPDATE customer AS c SET\nsort_leads_count = c.sort_leads_count + d.n,\nsort_last_interaction_at = CASE\nWHEN d.removed IS NOT NULL AND (\nc.sort_last_interaction_at IS NULL OR d.removed >= c.sort_last_interaction_at\n) THEN GREATEST(\n(SELECT max(x.created_at) FROM leads AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM call_log AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM whatsapp_message AS x WHERE x.customer_id = c.id)\n)\nELSE GREATEST(c.sort_last_interaction_at, d.added)\nEND\nFROM (\nSELECT ch.customer_id, sum(ch.n) AS n, max(ch.added) AS added,\nmax(ch.removed) AS removed\nFROM (SELECT o.customer_id, -1 AS n, NULL::timestamptz AS added, o.created_at AS removed FROM old_rows AS o FULL JOIN new_rows AS n ON n.id = o.id WHERE (o.id, o.customer_id, o.created_at) IS DISTINCT FROM (n.id, n.customer_id, n.created_at) AND o.customer_id IS NOT NULL UNION ALL SELECT n.customer_id, 1 AS n, n.created_at AS added, NULL::timestamptz AS removed FROM old_rows AS o FULL JOIN new_rows AS n ON n.id = o.id WHERE (o.id, o.customer_id, o.created_at) IS DISTINCT FROM (n.id, n.customer_id, n.created_at) AND n.customer_id IS NOT NULL) AS ch\nGROUP BY ch.customer_id\n) AS d\nWHERE c.id = d.customer_id; RETURN NULL;",
                            hash="0c3865b7a0e26d5f224dc27e71509c19a5b41330",
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
                            func="INSERT INTO tenant_stats_counter AS t (business_id, slot, leads, leads_from_calls, leads_converted_from_calls, leads_from_whatsapp, leads_converted_from_whatsapp, leads_meeting_ready)\nSELECT r.tenant_id, (pg_backend_pid() % 16)::smallint, sum(r.sign * 1), sum(r.sign * (r.source = 'call')::int), sum(r.sign * (r.source = 'call' AND r.status IN ('qualified', 'won'))::int), sum(r.sign * (r.source = 'whatsapp')::int), sum(r.sign * (r.source = 'whatsapp' AND r.status IN ('qualified', 'won'))::int), sum(r.sign * (r.status = 'qualified')::int)\nFROM (SELECT -1 AS sign, o.* FROM old_rows AS o) AS r\nGROUP BY r.tenant_id\nHAVING sum(r.sign * 1) <> 0 OR sum(r.sign * (r.source = 'call')::int) <> 0 OR sum(r.sign * (r.source = 'call' AND r.status IN ('qualified', 'won'))::int) <> 0 OR sum(r.sign * (r.source = 'whatsapp')::int) <> 0 OR sum(r.sign * (r.source = 'whatsapp' AND r.status IN ('qualified', 'won'))::int) <> 0 OR sum(r.sign * (r.status = 'qualified')::int) <> 0\nORDER BY r.tenant_id\nON CONFLICT (business_id, slot) DO UPDATE SET\nleads = t.leads + EXCLUDED.leads, leads_from_calls = t.leads_from_calls + EXCLUDED.leads_from_calls, leads_converted_from_calls = t.leads_converted_from_calls + EXCLUDED.leads_converted_from_calls, leads_from_whatsapp = t.leads_from_whatsapp + EXCLUDED.leads_from_whatsapp, leads_converted_from_whatsapp = t.leads_converted_from_whatsapp + EXCLUDED.leads_converted_from_whatsapp, leads_meeting_ready = t.leads_meeting_ready + EXCLUDED.leads_meeting_ready;\nINSERT INTO tenant_stats_bucket AS t (business_id, bucket_start, slot, leads)\nSELECT r.tenant_id, date_bin('15 minutes', r.created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'), (pg_backend_pid() % 16)::smallint, sum(r.sign)\nFROM (SELECT -1 AS sign, o.* FROM old_rows AS o) AS r\nGROUP BY 1, 2\nHAVING sum(r.sign) <> 0\nORDER BY 1, 2\nON CONFLICT (business_id, bucket_start, slot) DO UPDATE SET\nleads = t.leads + EXCLUDED.leads;\nPERFORM 1 FROM customer\nWHERE id IN (SELECT ch.customer_id FROM (SELECT o.customer_id, -1 AS n, NULL::timestamptz AS added, o.created_at AS removed FROM old_rows AS o WHERE o.customer_id IS NOT NULL) AS ch)\nORDER BY id FOR NO KEY UPDATE;\nUPDATE customer AS c SET\nsort_leads_count = c.sort_leads_count + d.n,\nsort_last_interaction_at = CASE\nWHEN d.removed IS NOT NULL AND (\nc.sort_last_interaction_at IS NULL OR d.removed >= c.sort_last_interaction_at\n) THEN GREATEST(\n(SELECT max(x.created_at) FROM leads AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM call_log AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM whatsapp_message AS x WHERE x.customer_id = c.id)\n)\nELSE GREATEST(c.sort_last_interaction_at, d.added)\nEND\nFROM (\nSELECT ch.customer_id, sum(ch.n) AS n, max(ch.added) AS added,\nmax(ch.removed) AS removed\nFROM (SELECT o.customer_id, -1 AS n, NULL::timestamptz AS added, o.created_at AS removed FROM old_rows AS o WHERE o.customer_id IS NOT NULL) AS ch\nGROUP BY ch.customer_id\n) AS d\nWHERE c.id = d.customer_id; RETURN NULL;",
                            hash="05acbf3603dc13b3265e554018e0c8a5f56eba1b",
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
                pgtrigger.migrations.RemoveTrigger(
                    model_name="whatsappmessage",
                    name="whatsapp_message_derived_insert",
                ),
                pgtrigger.migrations.RemoveTrigger(
                    model_name="whatsappmessage",
                    name="whatsapp_message_derived_update",
                ),
                pgtrigger.migrations.RemoveTrigger(
                    model_name="whatsappmessage",
                    name="whatsapp_message_derived_delete",
                ),
                pgtrigger.migrations.AddTrigger(
                    model_name="whatsappmessage",
                    trigger=pgtrigger.compiler.Trigger(
                        name="whatsapp_message_derived_insert",
                        sql=pgtrigger.compiler.UpsertTriggerSql(
                            func="INSERT INTO tenant_stats_counter AS t (business_id, slot, whatsapp, whatsapp_ai_processed)\nSELECT r.business_id, (pg_backend_pid() % 16)::smallint, sum(r.sign * 1), sum(r.sign * r.ai_generated::int)\nFROM (SELECT 1 AS sign, n.* FROM new_rows AS n) AS r\nGROUP BY r.business_id\nHAVING sum(r.sign * 1) <> 0 OR sum(r.sign * r.ai_generated::int) <> 0\nORDER BY r.business_id\nON CONFLICT (business_id, slot) DO UPDATE SET\nwhatsapp = t.whatsapp + EXCLUDED.whatsapp, whatsapp_ai_processed = t.whatsapp_ai_processed + EXCLUDED.whatsapp_ai_processed;\nUPDATE customer AS c SET\nstored_whatsapp_count = c.stored_whatsapp_count + d.n,\nsort_last_interaction_at = GREATEST(c.sort_last_interaction_at, d.added)\nFROM (\nSELECT locked.id, a.n, a.added\nFROM customer AS locked JOIN (\nSELECT ch.customer_id, sum(ch.n) AS n, max(ch.added) AS added,\nmax(ch.removed) AS removed\nFROM (SELECT n.customer_id, 1 AS n, n.created_at AS added, NULL::timestamptz AS removed FROM new_rows AS n WHERE n.customer_id IS NOT NULL) AS ch\nGROUP BY ch.customer_id\n) AS a ON a.customer_id = locked.id\nORDER BY locked.id\nFOR NO KEY UPDATE OF locked\n) AS d\nWHERE c.id = d.id; RETURN NULL;",
                            hash="60be3377b286f927c97904f4fcb18e029b646e55",
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
                            func="INSERT INTO tenant_stats_counter AS t (business_id, slot, whatsapp, whatsapp_ai_processed)\nSELECT r.business_id, (pg_backend_pid() % 16)::smallint, sum(r.sign * 1), sum(r.sign * r.ai_generated::int)\nFROM (SELECT 1 AS sign, n.* FROM new_rows AS n UNION ALL SELECT -1 AS sign, o.* FROM old_rows AS o) AS r\nGROUP BY r.business_id\nHAVING sum(r.sign * 1) <> 0 OR sum(r.sign * r.ai_generated::int) <> 0\nORDER BY r.business_id\nON CONFLICT (business_id, slot) DO UPDATE SET\nwhatsapp = t.whatsapp + EXCLUDED.whatsapp, whatsapp_ai_processed = t.whatsapp_ai_processed + EXCLUDED.whatsapp_ai_processed;\nPERFORM 1 FROM customer\nWHERE id IN (SELECT ch.customer_id FROM (SELECT o.customer_id, -1 AS n, NULL::timestamptz AS added, o.created_at AS removed FROM old_rows AS o FULL JOIN new_rows AS n ON n.id = o.id WHERE (o.id, o.customer_id, o.created_at) IS DISTINCT FROM (n.id, n.customer_id, n.created_at) AND o.customer_id IS NOT NULL UNION ALL SELECT n.customer_id, 1 AS n, n.created_at AS added, NULL::timestamptz AS removed FROM old_rows AS o FULL JOIN new_rows AS n ON n.id = o.id WHERE (o.id, o.customer_id, o.created_at) IS DISTINCT FROM (n.id, n.customer_id, n.created_at) AND n.customer_id IS NOT NULL) AS ch)\nORDER BY id FOR NO KEY UPDATE;\nUPDATE customer AS c SET\nstored_whatsapp_count = c.stored_whatsapp_count + d.n,\nsort_last_interaction_at = CASE\nWHEN d.removed IS NOT NULL AND (\nc.sort_last_interaction_at IS NULL OR d.removed >= c.sort_last_interaction_at\n) THEN GREATEST(\n(SELECT max(x.created_at) FROM leads AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM call_log AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM whatsapp_message AS x WHERE x.customer_id = c.id)\n)\nELSE GREATEST(c.sort_last_interaction_at, d.added)\nEND\nFROM (\nSELECT ch.customer_id, sum(ch.n) AS n, max(ch.added) AS added,\nmax(ch.removed) AS removed\nFROM (SELECT o.customer_id, -1 AS n, NULL::timestamptz AS added, o.created_at AS removed FROM old_rows AS o FULL JOIN new_rows AS n ON n.id = o.id WHERE (o.id, o.customer_id, o.created_at) IS DISTINCT FROM (n.id, n.customer_id, n.created_at) AND o.customer_id IS NOT NULL UNION ALL SELECT n.customer_id, 1 AS n, n.created_at AS added, NULL::timestamptz AS removed FROM old_rows AS o FULL JOIN new_rows AS n ON n.id = o.id WHERE (o.id, o.customer_id, o.created_at) IS DISTINCT FROM (n.id, n.customer_id, n.created_at) AND n.customer_id IS NOT NULL) AS ch\nGROUP BY ch.customer_id\n) AS d\nWHERE c.id = d.customer_id; RETURN NULL;",
                            hash="985efa98840bc23a8d916ca921804451d38f2fd7",
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
                            func="INSERT INTO tenant_stats_counter AS t (business_id, slot, whatsapp, whatsapp_ai_processed)\nSELECT r.business_id, (pg_backend_pid() % 16)::smallint, sum(r.sign * 1), sum(r.sign * r.ai_generated::int)\nFROM (SELECT -1 AS sign, o.* FROM old_rows AS o) AS r\nGROUP BY r.business_id\nHAVING sum(r.sign * 1) <> 0 OR sum(r.sign * r.ai_generated::int) <> 0\nORDER BY r.business_id\nON CONFLICT (business_id, slot) DO UPDATE SET\nwhatsapp = t.whatsapp + EXCLUDED.whatsapp, whatsapp_ai_processed = t.whatsapp_ai_processed + EXCLUDED.whatsapp_ai_processed;\nPERFORM 1 FROM customer\nWHERE id IN (SELECT ch.customer_id FROM (SELECT o.customer_id, -1 AS n, NULL::timestamptz AS added, o.created_at AS removed FROM old_rows AS o WHERE o.customer_id IS NOT NULL) AS ch)\nORDER BY id FOR NO KEY UPDATE;\nUPDATE customer AS c SET\nstored_whatsapp_count = c.stored_whatsapp_count + d.n,\nsort_last_interaction_at = CASE\nWHEN d.removed IS NOT NULL AND (\nc.sort_last_interaction_at IS NULL OR d.removed >= c.sort_last_interaction_at\n) THEN GREATEST(\n(SELECT max(x.created_at) FROM leads AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM call_log AS x WHERE x.customer_id = c.id),\n(SELECT max(x.created_at) FROM whatsapp_message AS x WHERE x.customer_id = c.id)\n)\nELSE GREATEST(c.sort_last_interaction_at, d.added)\nEND\nFROM (\nSELECT ch.customer_id, sum(ch.n) AS n, max(ch.added) AS added,\nmax(ch.removed) AS removed\nFROM (SELECT o.customer_id, -1 AS n, NULL::timestamptz AS added, o.created_at AS removed FROM old_rows AS o WHERE o.customer_id IS NOT NULL) AS ch\nGROUP BY ch.customer_id\n) AS d\nWHERE c.id = d.customer_id; RETURN NULL;",
                            hash="67791d91cfd01dc95018181bc70b41c2a307a9c5",
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
