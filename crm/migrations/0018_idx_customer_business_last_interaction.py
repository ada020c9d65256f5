"""The intelligence list ordered by last interaction (``?ordering=-last_interaction``).

``(business_id, COALESCE(sort_last_interaction_at, '-infinity') DESC, id DESC)``: the
keyset order of that list, never-active customers last (crm/sort_keys.py). It replaces
the rank-expression index of 0016, dropped in 0020 once this one is built. Built
concurrently, hence ``atomic = False``.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations
from django.db.models import F

import crm.indexes
import crm.sort_keys


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("crm", "0017_idx_customer_business_leads_count"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="customer",
            index=crm.indexes.NamedIndex(
                F("business"),
                crm.sort_keys.last_interaction_key().desc(),
                F("id").desc(),
                name="idx_customer_business_last_interaction",
            ),
        ),
    ]
