"""Migrations build the contract's indexes concurrently, valid, and nothing redundant."""

from __future__ import annotations

import pytest
from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

pytestmark = pytest.mark.django_db

CONTRACT_INDEXES = {
    "idx_leads_tenant_status_created": "CREATE INDEX idx_leads_tenant_status_created ON public.leads USING btree (tenant_id, status, created_at DESC)",
    "idx_lead_status_history_lead_created": "CREATE INDEX idx_lead_status_history_lead_created ON public.lead_status_history USING btree (lead_id, created_at DESC)",
    "idx_call_log_business_status_created": "CREATE INDEX idx_call_log_business_status_created ON public.call_log USING btree (business_id, status, created_at DESC)",
    "idx_whatsapp_message_business_to_created": "CREATE INDEX idx_whatsapp_message_business_to_created ON public.whatsapp_message USING btree (business_id, to_number, created_at DESC)",
}
PROJECT_TABLES = (
    "business",
    "business_settings",
    "membership",
    "customer",
    "leads",
    "lead_status_history",
    "call_log",
    "whatsapp_message",
)


def fetch_indexes() -> dict[str, tuple[str, bool]]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisvalid
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            JOIN pg_class t ON t.oid = i.indrelid
            WHERE t.relname = ANY(%s)
            """,
            [list(PROJECT_TABLES)],
        )
        return {name: (definition, valid) for name, definition, valid in cursor.fetchall()}


def test_contract_indexes_exist_exactly_as_defined_and_valid() -> None:
    indexes = fetch_indexes()
    for name, definition in CONTRACT_INDEXES.items():
        assert indexes[name] == (definition, True)


def test_every_index_is_valid() -> None:
    assert all(valid for _, valid in fetch_indexes().values())


def test_no_index_is_a_prefix_of_another() -> None:
    """An index whose columns (in order and direction) lead another one is redundant."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.relname, c.relname, i.indisunique,
                   -- The key list: everything inside "USING btree (...)". Anchored on
                   -- USING so that the parentheses of an expression key stay inside.
                   regexp_replace(pg_get_indexdef(i.indexrelid), '^.* USING [a-z]+ \\((.*)\\)$', '\\1')
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            JOIN pg_class t ON t.oid = i.indrelid
            WHERE t.relname = ANY(%s)
            """,
            [list(PROJECT_TABLES)],
        )
        rows = cursor.fetchall()
    redundant = []
    for table, name, unique, columns in rows:
        if unique:
            continue  # a unique index exists for its constraint, not for reads
        for other_table, other_name, _, other_columns in rows:
            if (
                other_table == table
                and other_name != name
                and (other_columns + ", ").startswith(columns + ", ")
            ):
                redundant.append(f"{name} ({columns}) is led by {other_name} ({other_columns})")
    assert redundant == []


def test_every_crm_index_migration_is_concurrent_non_atomic_and_alone() -> None:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    index_migrations = [
        migration
        for (app, _), migration in loader.disk_migrations.items()
        if app == "crm"
        and any(
            isinstance(op, AddIndexConcurrently | RemoveIndexConcurrently)
            for op in migration.operations
        )
    ]
    assert len(index_migrations) >= len(CONTRACT_INDEXES)
    for migration in index_migrations:
        assert migration.atomic is False, migration.name
        assert len(migration.operations) == 1, migration.name


def test_models_and_migrations_agree() -> None:
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_crm_migrates_to_zero_and_back() -> None:
    call_command("migrate", "crm", "zero", verbosity=0)
    assert not any(name in fetch_indexes() for name in CONTRACT_INDEXES)
    call_command("migrate", "crm", verbosity=0)
    indexes = fetch_indexes()
    for name, definition in CONTRACT_INDEXES.items():
        assert indexes[name] == (definition, True)
