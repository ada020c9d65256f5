"""Drop the lead-count rank index of 0015: 0017's plain index serves the ordering now.

``DROP INDEX CONCURRENTLY`` (no lock on writes), hence ``atomic = False``; migrating
back rebuilds it concurrently from its definition in 0015.
"""

from django.contrib.postgres.operations import RemoveIndexConcurrently
from django.db import migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("crm", "0018_idx_customer_business_last_interaction"),
    ]

    operations = [
        RemoveIndexConcurrently(
            model_name="customer",
            name="idx_customer_business_leads_rank",
        ),
    ]
