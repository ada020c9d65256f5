"""The intelligence list ordered by lead count (``?ordering=-leads_count``).

An index on the expression ``sort_leads_count * 10^20 + id`` (crm/sort_keys.py): the
queries order and filter by exactly this expression, so PostgreSQL reads the index in
order and stops at the page. Built concurrently, hence ``atomic = False``.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations
from django.db.models import F

import crm.indexes
import crm.sort_keys


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("crm", "0014_idx_customer_business_name"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="customer",
            index=crm.indexes.NamedIndex(
                F("business"),
                crm.sort_keys.leads_count_rank().desc(),
                name="idx_customer_business_leads_rank",
            ),
        ),
    ]
