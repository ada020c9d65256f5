"""The intelligence list ordered by lead count (``?ordering=-leads_count``).

``(business_id, sort_leads_count DESC, id DESC)``: the keyset order of that list, so a
page is one index range, ``(sort_leads_count, id) < (…)`` included (docs/indexes.md).
It replaces the rank-expression index of 0015, dropped in 0019 once this one is built.
Built concurrently, hence ``atomic = False``.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations

import crm.indexes


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("crm", "0016_idx_customer_business_last_interaction_rank"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="customer",
            index=crm.indexes.NamedIndex(
                fields=["business", "-sort_leads_count", "-id"],
                name="idx_customer_business_leads_count",
            ),
        ),
    ]
