"""The orderings of the customer intelligence list, and what each one sorts by.

DRF's cursor pagination positions a page on the first ``order_by`` field and breaks
ties with an offset (capped at 1000). The two activity orderings would tie thousands of
customers (most have no leads), so they sort by the unique rank expressions of
crm/sort_keys.py, which already end in the id. ``created_at`` and ``name`` are nearly
unique and take ``id`` as their tie-breaker. Each has an index that gives its order,
so every page is an index range read that stops at the page size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Expression

from crm.sort_keys import last_interaction_rank, leads_count_rank


@dataclass(frozen=True)
class CustomerOrdering:
    fields: tuple[str, ...]
    # Rank expressions the fields refer to, annotated onto the queryset under these names.
    annotations: dict[str, Callable[[], Expression]] = field(default_factory=dict)


ORDERINGS: dict[str, CustomerOrdering] = {
    # idx_customer_business_created
    "-created_at": CustomerOrdering(fields=("-created_at", "-id")),
    # idx_customer_business_name
    "name": CustomerOrdering(fields=("name", "id")),
    # idx_customer_business_leads_rank: (lead count, id), newest ids first among equals
    "-leads_count": CustomerOrdering(
        fields=("-leads_count_rank",), annotations={"leads_count_rank": leads_count_rank}
    ),
    # idx_customer_business_last_interaction_rank: never-active customers come last
    "-last_interaction": CustomerOrdering(
        fields=("-last_interaction_rank",),
        annotations={"last_interaction_rank": last_interaction_rank},
    ),
}
DEFAULT_ORDERING = "-created_at"

# How the browsable API's filter form names each ordering.
ORDERING_LABELS: dict[str, str] = {
    "-created_at": "Newest first",
    "name": "Name, A to Z",
    "-leads_count": "Most leads first",
    "-last_interaction": "Latest interaction first",
}
