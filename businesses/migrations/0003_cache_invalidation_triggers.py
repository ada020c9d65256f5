"""The triggers that announce every change of a business, its
settings or a membership (docs/cache.md), whoever writes it.

``CREATE TRIGGER`` takes a SHARE ROW EXCLUSIVE lock on its table, so the triggers are
created under a short lock_timeout and retried with backoff (prosaas/migrations.py),
each attempt its own transaction, hence ``atomic = False``.
"""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations

import prosaas.migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("businesses", "0002_cache_outbox"),
    ]

    operations = [
        prosaas.migrations.WithLockTimeout(
            [
                pgtrigger.migrations.AddTrigger(
                    model_name="business",
                    trigger=pgtrigger.compiler.Trigger(
                        name="business_cache_invalidation",
                        sql=pgtrigger.compiler.UpsertTriggerSql(
                            declare="DECLARE ids bigint[];",
                            func="ids := ARRAY( SELECT DISTINCT changed FROM unnest(ARRAY[OLD.id, NEW.id]) AS changed WHERE changed IS NOT NULL ORDER BY changed ); IF cardinality(ids) > 0 THEN PERFORM pg_notify( 'prosaas_cache_invalidation', json_build_object( 'sender', 'db', 'keyspace', 'business-settings', 'op', 'invalidate', 'ids', to_json(ids) )::text ); INSERT INTO cache_outbox (keyspace, key) SELECT 'business-settings', changed FROM unnest(ids) AS changed; END IF; RETURN NULL;",
                            hash="aa14140e4bab4f3bea268e9dd26178c517be0517",
                            operation="UPDATE OR DELETE",
                            pgid="pgtrigger_business_cache_invalidation_c3849",
                            table="business",
                            when="AFTER",
                        ),
                    ),
                ),
                pgtrigger.migrations.AddTrigger(
                    model_name="businesssettings",
                    trigger=pgtrigger.compiler.Trigger(
                        name="settings_cache_invalidation",
                        sql=pgtrigger.compiler.UpsertTriggerSql(
                            declare="DECLARE ids bigint[];",
                            func="ids := ARRAY( SELECT DISTINCT changed FROM unnest(ARRAY[OLD.tenant_id, NEW.tenant_id]) AS changed WHERE changed IS NOT NULL ORDER BY changed ); IF cardinality(ids) > 0 THEN PERFORM pg_notify( 'prosaas_cache_invalidation', json_build_object( 'sender', 'db', 'keyspace', 'business-settings', 'op', 'invalidate', 'ids', to_json(ids) )::text ); INSERT INTO cache_outbox (keyspace, key) SELECT 'business-settings', changed FROM unnest(ids) AS changed; END IF; RETURN NULL;",
                            hash="a50087d59d5b34a4c33fb992159b420a6e5eb1b3",
                            operation="INSERT OR UPDATE OR DELETE",
                            pgid="pgtrigger_settings_cache_invalidation_39f64",
                            table="business_settings",
                            when="AFTER",
                        ),
                    ),
                ),
                pgtrigger.migrations.AddTrigger(
                    model_name="membership",
                    trigger=pgtrigger.compiler.Trigger(
                        name="membership_cache_invalidation",
                        sql=pgtrigger.compiler.UpsertTriggerSql(
                            declare="DECLARE ids bigint[];",
                            func="ids := ARRAY( SELECT DISTINCT changed FROM unnest(ARRAY[OLD.user_id, NEW.user_id]) AS changed WHERE changed IS NOT NULL ORDER BY changed ); IF cardinality(ids) > 0 THEN PERFORM pg_notify( 'prosaas_cache_invalidation', json_build_object( 'sender', 'db', 'keyspace', 'memberships', 'op', 'invalidate', 'ids', to_json(ids) )::text ); INSERT INTO cache_outbox (keyspace, key) SELECT 'memberships', changed FROM unnest(ids) AS changed; END IF; RETURN NULL;",
                            hash="6a1c4173c5de5cde53dfc82dcdf0cd343c9aeaf3",
                            operation="INSERT OR UPDATE OR DELETE",
                            pgid="pgtrigger_membership_cache_invalidation_ad063",
                            table="membership",
                            when="AFTER",
                        ),
                    ),
                ),
            ]
        ),
    ]
