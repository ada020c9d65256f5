"""The orderings of the customer intelligence list, and what each one sorts by.

Every ordering is total: its sort column, then the id in the same direction, and each
has an index on ``(business_id, sort column, id)`` in that direction, so a page is an
index range that starts right after the previous page's last row and stops at the page
size (prosaas/pagination.py). The activity orderings sort by the keys stored on the
customer row (crm/sort_keys.py); most customers share a lead count, and ties are
ordered by id like any other.
"""

from __future__ import annotations

from crm.sort_keys import NO_INTERACTION
from prosaas.keyset import KeysetOrdering, SortKey

ORDERINGS: dict[str, KeysetOrdering] = {
    # idx_customer_business_created (business_id, created_at DESC, id DESC)
    "-created_at": KeysetOrdering.of("-created_at"),
    # idx_customer_business_name (business_id, name, id)
    "name": KeysetOrdering.of("name"),
    # idx_customer_business_leads_count (business_id, sort_leads_count DESC, id DESC)
    "-leads_count": KeysetOrdering.of("-sort_leads_count"),
    # idx_customer_business_last_interaction: never-active customers come last
    "-last_interaction": KeysetOrdering.of(
        SortKey("sort_last_interaction_at", descending=True, nulls_as=NO_INTERACTION)
    ),
}
DEFAULT_ORDERING = "-created_at"
