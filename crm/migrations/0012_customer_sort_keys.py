"""Sort keys on the customer row for the intelligence list's activity orderings.

Both columns are added without a table rewrite: a constant default and a nullable
column are catalogue-only changes in PostgreSQL 11+. 0013 fills them in.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0011_idx_call_log_business_created"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="sort_leads_count",
            field=models.IntegerField(
                default=0, editable=False, help_text="Sort key: number of leads."
            ),
        ),
        migrations.AddField(
            model_name="customer",
            name="sort_last_interaction_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="Sort key: newest lead, call or WhatsApp message.",
                null=True,
            ),
        ),
    ]
