"""Time the intelligence queries on the tenants docs/intelligence-scale.sql creates.

    manage.py shell < docs/intelligence-measure.py

Prints, per tenant, the SQL time (median of REPEAT runs after a warm-up, summed over
the statements, measured around the driver's execute) of: the product's one-query page,
the seed's formulation (page + 6 aggregate queries, intelligence/aggregated.py), the
ordering alone (the page of bare customers), ordering by a live count instead of the
sort key, the stats, the heaviest customer's detail and the drift check.
"""

import statistics
import time

from django.db import connection

from businesses.models import Business
from crm.activity import find_drift
from crm.models import Customer, Lead
from intelligence import aggregated
from intelligence.expressions import count_of
from intelligence.ordering import ORDERINGS
from intelligence.selectors import (
    customer_intelligence_detail,
    customer_intelligence_list,
    tenant_stats,
)

REPEAT = 9
TENANTS = ("scale20k", "scale100k")


class Timer:
    def __init__(self):
        self.milliseconds, self.queries = 0.0, 0

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.milliseconds += (time.perf_counter() - start) * 1000
            self.queries += 1


def measure(run):
    run()  # warm-up
    timers = []
    for _ in range(REPEAT):
        timer = Timer()
        with connection.execute_wrapper(timer):
            run()
        timers.append(timer)
    return statistics.median(t.milliseconds for t in timers), timers[0].queries


def show(label, result):
    milliseconds, queries = result
    print(f"  {label:58} {milliseconds:8.1f} ms  ({queries} queries)")


def measure_tenant(business):
    customers = Customer.objects.for_business(business)
    print(f"\n{business.slug}: {customers.count()} customers")
    for name, ordering in ORDERINGS.items():
        page = customer_intelligence_list(business=business, ordering=name)[:51]
        bare = customers.order_by(*ordering.order_by())[:51]
        # .all(): a fresh queryset each run, never the first run's cached rows.
        show(f"{name}: product page (1 query)", measure(lambda q=page: list(q.all())))
        show(
            f"{name}: seed's formulation",
            measure(lambda n=name: aggregated.customer_page(business=business, ordering=n)),
        )
        show(f"{name}: the ordering alone", measure(lambda q=bare: list(q.all())))
    live = customers.annotate(n=count_of(Lead)).order_by("-n", "-id")[:51]
    show("-leads_count by a live count (no sort key)", measure(lambda: list(live.all())))
    show("stats", measure(lambda: tenant_stats(business=business)))
    heaviest = max(customers.order_by("id")[:10], key=lambda c: c.calls.count())
    show(
        f"detail of the customer with {heaviest.calls.count()} calls",
        measure(lambda: customer_intelligence_detail(business=business, customer_id=heaviest.pk)),
    )
    show(
        "its activity the seed's way (6 queries)",
        measure(lambda: aggregated.page_activity(business=business, customer_ids=[heaviest.pk])),
    )
    show(
        "drift check (customer_sort_keys --check)",
        measure(lambda: find_drift(business_id=business.pk)),
    )


for slug in TENANTS:
    measure_tenant(Business.objects.select_related("settings").get(slug=slug))
