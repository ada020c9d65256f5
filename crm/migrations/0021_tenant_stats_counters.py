"""The tenant statistics counters: running totals and new rows per 15 minutes.

Two new, empty tables; the triggers that fill them come in 0022 and the backfill of
existing rows in 0023. No foreign-key constraint to ``business`` (see the models), so
creating them locks no existing table.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("businesses", "0001_initial"),
        ("crm", "0020_remove_idx_customer_business_last_interaction_rank"),
    ]

    operations = [
        migrations.CreateModel(
            name="TenantStatsBucket",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "business",
                        "bucket_start",
                        "slot",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                (
                    "business",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="businesses.business",
                    ),
                ),
                ("bucket_start", models.DateTimeField()),
                ("slot", models.SmallIntegerField()),
                ("customers", models.BigIntegerField(db_default=0, default=0)),
                ("leads", models.BigIntegerField(db_default=0, default=0)),
            ],
            options={
                "db_table": "tenant_stats_bucket",
            },
        ),
        migrations.CreateModel(
            name="TenantStatsCounter",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "business",
                        "slot",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                (
                    "business",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="businesses.business",
                    ),
                ),
                ("slot", models.SmallIntegerField()),
                ("customers", models.BigIntegerField(db_default=0, default=0)),
                ("leads", models.BigIntegerField(db_default=0, default=0)),
                ("leads_from_calls", models.BigIntegerField(db_default=0, default=0)),
                ("leads_converted_from_calls", models.BigIntegerField(db_default=0, default=0)),
                ("leads_from_whatsapp", models.BigIntegerField(db_default=0, default=0)),
                ("leads_converted_from_whatsapp", models.BigIntegerField(db_default=0, default=0)),
                ("leads_meeting_ready", models.BigIntegerField(db_default=0, default=0)),
                ("calls", models.BigIntegerField(db_default=0, default=0)),
                ("calls_ai_processed", models.BigIntegerField(db_default=0, default=0)),
                ("whatsapp", models.BigIntegerField(db_default=0, default=0)),
                ("whatsapp_ai_processed", models.BigIntegerField(db_default=0, default=0)),
            ],
            options={
                "db_table": "tenant_stats_counter",
            },
        ),
    ]
