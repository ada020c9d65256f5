"""Drop the last-interaction rank index of 0016: 0018's index serves the ordering now.

``DROP INDEX CONCURRENTLY`` (no lock on writes), hence ``atomic = False``; migrating
back rebuilds it concurrently from its definition in 0016.
"""

from django.contrib.postgres.operations import RemoveIndexConcurrently
from django.db import migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("crm", "0019_remove_idx_customer_business_leads_rank"),
    ]

    operations = [
        RemoveIndexConcurrently(
            model_name="customer",
            name="idx_customer_business_last_interaction_rank",
        ),
    ]
