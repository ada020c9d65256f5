"""How much data each scale generates.

A scale is a list of tenants. Each tenant is generated (and reused) on its own, so
moving from one scale to another only loads the tenants that are missing (the small
scale's tenants have names of their own and live next to the default ones). Per-customer
densities are the same in every tenant, so tenants of different sizes differ only in
how many customers they have: that is what the scaling scenario compares.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Rows per customer, on average, in every tenant (the whale's extra calls come on top).
LEADS_PER_CUSTOMER = 15
CALLS_PER_CUSTOMER = 20
MESSAGES_PER_CUSTOMER = 20


@dataclass(frozen=True)
class TenantSpec:
    slug: str
    customers: int
    # One customer with this many extra calls (a call-centre robot, a reseller...).
    whale_calls: int = 0
    # Where the whale sits in the default (newest first) order, counted from 1: deep
    # enough that page 1 is an ordinary page, so the whale's page is measured apart.
    whale_position: int = 125
    leads_per_customer: int = LEADS_PER_CUSTOMER
    calls_per_customer: int = CALLS_PER_CUSTOMER
    messages_per_customer: int = MESSAGES_PER_CUSTOMER

    @property
    def leads(self) -> int:
        return self.customers * self.leads_per_customer

    @property
    def calls(self) -> int:
        return self.customers * self.calls_per_customer + self.whale_calls

    @property
    def messages(self) -> int:
        return self.customers * self.messages_per_customer

    @property
    def approximate_rows(self) -> int:
        # Each lead has 1-4 status changes, 2.3 on average.
        return self.customers + int(self.leads * 3.3) + self.calls + self.messages


@dataclass(frozen=True)
class Scale:
    name: str
    # The tenant whose pages, lists and indexes are measured; it holds the whale.
    main: TenantSpec
    # Smaller tenants: they make the tables multi-tenant (every query must filter) and
    # give the load runs and the cache several businesses to resolve.
    others: tuple[TenantSpec, ...]
    # Tenants by customer count for the scaling scenario (may include the ones above).
    scaling: tuple[TenantSpec, ...] = field(default=())
    # Requests per measured case; the smoke run keeps them few.
    repeat: int = 30
    load_seconds: float = 8.0

    @property
    def tenants(self) -> tuple[TenantSpec, ...]:
        """Every tenant of the scale once, the main one first."""
        seen: dict[str, TenantSpec] = {}
        for spec in (self.main, *self.others, *self.scaling):
            seen.setdefault(spec.slug, spec)
        return tuple(seen.values())


_DEFAULT_MAIN = TenantSpec("bench-main", 20_000, whale_calls=200_000)
_DEFAULT_OTHERS = tuple(TenantSpec(f"bench-{n}", 1_000) for n in range(1, 10))
_SCALING_100K = TenantSpec("bench-scaling-100k", 100_000)

SCALES: dict[str, Scale] = {
    # Seconds: the CI smoke test and a quick check that every scenario runs.
    "small": Scale(
        name="small",
        main=TenantSpec("smoke-main", 200, whale_calls=2_000, whale_position=60),
        others=(TenantSpec("smoke-1", 30), TenantSpec("smoke-2", 30)),
        scaling=(TenantSpec("smoke-1", 30), TenantSpec("smoke-scaling", 600)),
        repeat=3,
        load_seconds=1.0,
    ),
    # `make bench`: the sizes the targets are stated for.
    "default": Scale(
        name="default",
        main=_DEFAULT_MAIN,
        others=_DEFAULT_OTHERS,
        scaling=(_DEFAULT_OTHERS[0], _DEFAULT_MAIN, _SCALING_100K),
    ),
}
