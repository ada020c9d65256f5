"""The schema keeps the rules a Citus distribution by tenant needs (docs/scaling.md).

Checked on the migrated test database's catalog, which is what Citus would see, so
an index or constraint added by raw SQL counts as much as one in ``Meta``:

* every tenant table has a NOT NULL tenant column;
* every unique index other than the ``id`` primary key includes the tenant column
  (Citus can only enforce uniqueness within one shard);
* every index leads with the tenant column, or with a foreign key to another tenant
  table (listed below with its reason), so no index mixes tenants.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import ForeignKey, Model

from businesses.models import Business, Membership

pytestmark = pytest.mark.django_db

# Not distributed: copied whole to every node (Citus reference tables), because they
# are read across tenants or by something other than the tenant.
REFERENCE_MODELS: dict[type[Model], str] = {
    Business: "the tenants themselves; every tenant table references it",
    Membership: "read by user id at sign-in, before the tenant is known (tenancy.py)",
}

# Indexes that lead with a foreign key to a co-located tenant table instead of the
# tenant column. The key's value belongs to exactly one tenant, so these indexes
# never mix tenants; adding tenant_id in front would only widen them. Each is read
# with the tenant filter as well, so under Citus the query still goes to one shard.
LEADS_WITH_TENANT_ROW_KEY: dict[str, str] = {
    # Fixed by DESIGN.md: a lead's timeline, read by lead id.
    "idx_lead_status_history_lead_created": "lead_id (leads.tenant_id)",
    # The intelligence read path: a customer's latest rows.
    "idx_leads_customer_created": "customer_id (customer.business_id)",
    "idx_call_log_customer_created": "customer_id (customer.business_id)",
    "idx_whatsapp_message_customer_created": "customer_id (customer.business_id)",
}


def tenant_column(model: type[Model]) -> str | None:
    for field in model._meta.concrete_fields:
        if field.is_relation and field.related_model is Business:
            return field.column
    return None


def tenant_models() -> list[type[Model]]:
    return [
        model
        for model in apps.get_models()
        if model not in REFERENCE_MODELS and tenant_column(model) is not None
    ]


def table_indexes(table: str) -> list[tuple[str, bool, bool, list[str]]]:
    """(name, is_unique, is_primary, columns in order; an expression is '<expr>')."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.relname, x.indisunique, x.indisprimary,
                   array(SELECT coalesce(a.attname, '<expr>')
                         FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
                         LEFT JOIN pg_attribute a
                           ON a.attrelid = x.indrelid AND a.attnum = k.attnum AND k.attnum > 0
                         ORDER BY k.n)
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indrelid = %s::regclass
            ORDER BY i.relname
            """,
            [table],
        )
        return [(name, unique, primary, list(cols)) for name, unique, primary, cols in cursor]


def tenant_params() -> list[object]:
    """One parameter per tenant table, named by the table."""
    return [pytest.param(model, id=model._meta.db_table) for model in tenant_models()]


def test_the_tenant_tables_are_the_crm_settings_and_stats_tables() -> None:
    # A new model with a business foreign key is a tenant table and falls under the
    # rules below; one without has to be named a reference table here on purpose.
    tables = {model._meta.db_table for model in tenant_models()}
    assert tables == {
        "business_settings",
        "customer",
        "leads",
        "lead_status_history",
        "call_log",
        "whatsapp_message",
        # The tenant statistics kept by triggers (crm/triggers.py), one tenant per row.
        "tenant_stats_counter",
        "tenant_stats_bucket",
    }
    crm_models = {m for m in apps.get_app_config("crm").get_models()}
    assert crm_models <= set(tenant_models())


@pytest.mark.parametrize("model", tenant_params())
def test_every_tenant_table_has_a_not_null_tenant_column(model: type[Model]) -> None:
    column = tenant_column(model)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT is_nullable FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s AND column_name = %s",
            [model._meta.db_table, column],
        )
        assert cursor.fetchall() == [("NO",)]


# The parameters are the model list only (collected before the test database exists);
# the catalog is read inside the test.
@pytest.mark.parametrize("model", tenant_params())
def test_every_unique_index_includes_the_tenant_column(model: type[Model]) -> None:
    column = tenant_column(model)
    offending = [
        (name, columns)
        for name, unique, primary, columns in table_indexes(model._meta.db_table)
        if unique and not (primary and columns == ["id"]) and column not in columns
    ]
    assert offending == []


@pytest.mark.parametrize("model", tenant_params())
def test_every_index_leads_with_the_tenant_or_a_tenant_rows_key(model: type[Model]) -> None:
    column = tenant_column(model)
    tenant_keys = {
        field.column
        for field in model._meta.concrete_fields
        if isinstance(field, ForeignKey) and field.related_model in tenant_models()
    }
    for name, _unique, primary, columns in table_indexes(model._meta.db_table):
        if primary and columns == ["id"]:
            continue  # becomes (tenant, id) with composite primary keys: docs/scaling.md
        if columns[0] == column:
            continue
        assert name in LEADS_WITH_TENANT_ROW_KEY, (
            f"{name} on {model._meta.db_table}{columns} leads with neither {column} nor a "
            "listed key of a tenant row"
        )
        assert columns[0] in tenant_keys, f"{name} leads with {columns[0]}, not a tenant row's key"


def test_every_listed_exception_is_a_real_index() -> None:
    names = {name for model in tenant_models() for name, *_ in table_indexes(model._meta.db_table)}
    assert set(LEADS_WITH_TENANT_ROW_KEY) <= names
