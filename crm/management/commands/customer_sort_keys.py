"""manage.py customer_sort_keys: check, repair or backfill the data the triggers keep.

The customer sort keys and the tenant statistics counters are maintained by database
triggers (crm/triggers.py); this command is the safety net: ``--check`` reports drift
(exit status 1 if any), ``--fix`` repairs it, ``--backfill`` recomputes every customer's
keys in batches of short transactions (after the columns are first added, or a restore
with triggers disabled) and then repairs the counters; ``--compact`` folds the slots of
the statistics' past 15-minute buckets into one row each (a daily job keeps the bucket
table at one row per past quarter hour of activity).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone
from tqdm import tqdm

from crm import stats_counters
from crm.activity import backfill_sort_keys, customer_id_range, find_drift, recompute_sort_keys

EXAMPLES_SHOWN = 10


class Command(BaseCommand):
    help = (
        "Compare the customers' sort keys (lead count, last interaction) and the tenant "
        "statistics counters with the rows they are derived from. --check reports drift "
        "and exits 1 if there is any; --fix repairs it; --backfill recomputes every "
        "customer in id-range batches (resumable with --from-id), then repairs the counters; "
        "--compact folds the statistics' past 15-minute buckets into one row each."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument("--check", action="store_true", help="Report drift; change nothing.")
        mode.add_argument("--fix", action="store_true", help="Repair what drifted.")
        mode.add_argument(
            "--backfill", action="store_true", help="Recompute every customer, in batches."
        )
        mode.add_argument(
            "--compact",
            action="store_true",
            help="Fold the slots of statistics buckets older than "
            f"{stats_counters.COMPACT_AFTER.days} days into one row each (run daily).",
        )
        parser.add_argument(
            "--business",
            metavar="ID_OR_SLUG",
            help="Only this business (default: every business, one transaction each).",
        )
        parser.add_argument(
            "--batch-size", type=int, default=1000, help="Customers per batch (--backfill)."
        )
        parser.add_argument(
            "--from-id", type=int, default=None, help="Resume --backfill at this customer id."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        businesses = self._businesses(options["business"])
        if options["backfill"]:
            if options["business"]:
                raise CommandError("--backfill covers every customer; drop --business.")
            self._backfill(businesses, options["batch_size"], options["from_id"])
        elif options["fix"]:
            self._fix(businesses, everyone=options["business"] is None)
        elif options["compact"]:
            self._compact(businesses)
        else:
            self._check(businesses, everyone=options["business"] is None)

    def _businesses(self, id_or_slug: str | None) -> list[tuple[int, str]]:
        # Raw SQL: 0023 runs this code against the schema of its time.
        sql, params = "SELECT id, name FROM business", []
        if id_or_slug is not None:
            column = "id" if id_or_slug.isdigit() else "slug"
            sql += f" WHERE {column} = %s"
            params.append(int(id_or_slug) if id_or_slug.isdigit() else id_or_slug)
        with connection.cursor() as cursor:
            cursor.execute(sql + " ORDER BY id", params)
            found = cursor.fetchall()
        if id_or_slug is not None and not found:
            raise CommandError(f"No business with id or slug {id_or_slug!r}.")
        return found

    def _check(self, businesses: list[tuple[int, str]], *, everyone: bool) -> None:
        drifted_customers = drifted_tenants = 0
        for business_id, name in businesses:
            drift = find_drift(business_id=business_id)
            if drift:
                drifted_customers += len(drift)
                self.stdout.write(
                    f"{name} (id {business_id}): {len(drift)} customers with drifted keys or counts"
                )
                for row in drift[:EXAMPLES_SHOWN]:
                    self.stdout.write(
                        f"  customer {row.customer_id}: leads {row.stored_leads_count} "
                        f"(actual {row.leads_count}), calls {row.stored_calls_count} "
                        f"(actual {row.calls_count}), WhatsApp {row.stored_whatsapp_count} "
                        f"(actual {row.whatsapp_count}), last interaction "
                        f"{_iso(row.stored_last_interaction_at)} "
                        f"(actual {_iso(row.last_interaction_at)})"
                    )
            stats = stats_counters.find_stats_drift(business_id=business_id)
            if stats:
                drifted_tenants += 1
                totals = ", ".join(f"{k} off by {-v:+d}" for k, v in sorted(stats.totals.items()))
                self.stdout.write(
                    f"{name} (id {business_id}): statistics counters drifted: "
                    f"{totals or 'totals right'}; {stats.buckets} 15-minute buckets wrong"
                )
        orphans = stats_counters.orphan_counter_rows() if everyone else 0
        if orphans:
            self.stdout.write(f"{orphans} counter rows of deleted businesses")
        problems = []
        if drifted_customers:
            problems.append(f"{drifted_customers} customers have drifted sort keys")
        if drifted_tenants:
            problems.append(f"{drifted_tenants} businesses have drifted statistics counters")
        if orphans:
            problems.append(f"{orphans} orphaned counter rows")
        if problems:
            raise CommandError("; ".join(problems) + "; run with --fix.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Sort keys and statistics counters match the rows in {len(businesses)} businesses."
            )
        )

    def _fix(self, businesses: list[tuple[int, str]], *, everyone: bool) -> None:
        fixed_customers = fixed_tenants = 0
        for business_id, name in businesses:
            # One business per transaction keeps row locks short on a large database.
            fixed = recompute_sort_keys(business_id=business_id)
            if fixed:
                self.stdout.write(f"{name} (id {business_id}): {fixed} customers fixed")
            fixed_customers += fixed
            if stats_counters.repair_stats(business_id=business_id):
                self.stdout.write(f"{name} (id {business_id}): statistics counters repaired")
                fixed_tenants += 1
        orphans = stats_counters.delete_orphan_counter_rows() if everyone else 0
        self.stdout.write(
            self.style.SUCCESS(
                f"Recomputed sort keys in {len(businesses)} businesses; "
                f"{fixed_customers} customers changed, {fixed_tenants} businesses' counters "
                f"repaired, {orphans} orphaned counter rows deleted."
            )
        )

    def _compact(self, businesses: list[tuple[int, str]]) -> None:
        before = timezone.now() - stats_counters.COMPACT_AFTER
        removed = 0
        for business_id, _ in businesses:
            # One business per transaction, as --fix does.
            removed += stats_counters.compact_buckets(business_id=business_id, before=before)
        self.stdout.write(
            self.style.SUCCESS(
                f"Compacted the statistics buckets before {before.isoformat()} in "
                f"{len(businesses)} businesses: {removed} rows fewer."
            )
        )

    def _backfill(
        self, businesses: list[tuple[int, str]], batch_size: int, from_id: int | None
    ) -> None:
        bounds = customer_id_range()
        start = max(from_id or 0, bounds[0]) if bounds else 0
        total = (bounds[1] - start + 1) if bounds and bounds[1] >= start else 0
        done = {"next": start}
        with tqdm(
            total=total, unit="id", desc="sort keys", file=self.stderr._out, disable=None
        ) as bar:

            def on_batch(first: int, after: int, changed: int) -> None:
                bar.update(min(after, bounds[1] + 1) - first if bounds else 0)
                done["next"] = after

            try:
                changed = backfill_sort_keys(
                    batch_size=batch_size, from_id=from_id, on_batch=on_batch
                )
            except BaseException:
                self.stderr.write(
                    f"Stopped; batches before id {done['next']} are committed. "
                    f"Resume with --backfill --from-id {done['next']}."
                )
                raise
        repaired = sum(
            stats_counters.repair_stats(business_id=business_id) for business_id, _ in businesses
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Backfilled sort keys: {changed} customers changed; statistics counters "
                f"repaired in {repaired} of {len(businesses)} businesses. "
                "Run --check to see that nothing is left."
            )
        )


def _iso(value: Any) -> str:
    return value.isoformat() if value is not None else "none"
