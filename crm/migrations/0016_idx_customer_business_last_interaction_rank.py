"""The intelligence list ordered by last interaction (``?ordering=-last_interaction``).

An index on the expression of crm/sort_keys.py's ``last_interaction_rank`` (the
interaction time in microseconds, times 10^20, plus the id): the queries order and
filter by exactly this expression. Built concurrently, hence ``atomic = False``.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations
from django.db.models import F

import crm.indexes
import crm.sort_keys


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("crm", "0015_idx_customer_business_leads_rank"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="customer",
            index=crm.indexes.NamedIndex(
                F("business"),
                crm.sort_keys.last_interaction_rank().desc(),
                name="idx_customer_business_last_interaction_rank",
            ),
        ),
    ]
