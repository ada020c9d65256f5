"""What every scenario receives, and how it says that the product code it needs is missing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.datagen import Dataset, Tenant

# Load runs bind to loopback only, on a free port in this range.
PORT_RANGE = range(8120, 8140)


class NotAvailable(Exception):
    """The product code a scenario measures has not landed in this checkout."""


@dataclass
class BenchContext:
    dataset: Dataset
    repeat: int
    load_seconds: float
    log: Callable[[str], None] = print
    # Numbers one scenario leaves for another (the cache scenario reads the load run's
    # hit rate instead of running a load of its own).
    shared: dict[str, Any] = field(default_factory=dict)
    work_dir: Path = Path("bench/.cache")

    @property
    def main(self) -> Tenant:
        return self.dataset.main

    @property
    def tenants(self) -> list[Tenant]:
        return list(self.dataset.tenants.values())
