"""manage.py customer_sort_keys: report (--check) or repair (--fix) drifted sort keys."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from businesses.models import Business
from crm.activity import find_drift, recompute_sort_keys

EXAMPLES_SHOWN = 10


class Command(BaseCommand):
    help = (
        "Compare the customers' sort keys (lead count, last interaction) with their leads, "
        "calls and WhatsApp messages. --check reports drift and exits 1 if there is any; "
        "--fix recomputes the keys that are wrong. Writes that bypass model signals "
        "(bulk_create, QuerySet.update, raw SQL, loaddata) leave drift behind."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument("--check", action="store_true", help="Report drift; change nothing.")
        mode.add_argument("--fix", action="store_true", help="Recompute the drifted keys.")
        parser.add_argument(
            "--business",
            metavar="ID_OR_SLUG",
            help="Only this business (default: every business, one transaction each).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        businesses = self._businesses(options["business"])
        if options["fix"]:
            self._fix(businesses)
        else:
            self._check(businesses)

    def _businesses(self, id_or_slug: str | None) -> list[Business]:
        everyone = Business.objects.order_by("pk")
        if id_or_slug is None:
            return list(everyone)
        lookup = {"pk": int(id_or_slug)} if id_or_slug.isdigit() else {"slug": id_or_slug}
        found = list(everyone.filter(**lookup))
        if not found:
            raise CommandError(f"No business with id or slug {id_or_slug!r}.")
        return found

    def _check(self, businesses: list[Business]) -> None:
        drifted_total = 0
        for business in businesses:
            drift = find_drift(business_id=business.pk)
            if not drift:
                continue
            drifted_total += len(drift)
            self.stdout.write(
                f"{business.name} (id {business.pk}): {len(drift)} customers with drifted keys"
            )
            for row in drift[:EXAMPLES_SHOWN]:
                self.stdout.write(
                    f"  customer {row.customer_id}: leads {row.stored_leads_count} "
                    f"(actual {row.leads_count}), last interaction "
                    f"{_iso(row.stored_last_interaction_at)} "
                    f"(actual {_iso(row.last_interaction_at)})"
                )
        if drifted_total:
            raise CommandError(f"{drifted_total} customers have drifted sort keys; run with --fix.")
        self.stdout.write(
            self.style.SUCCESS(f"Sort keys match the rows in {len(businesses)} businesses.")
        )

    def _fix(self, businesses: list[Business]) -> None:
        fixed_total = 0
        for business in businesses:
            # One business per transaction keeps row locks short on a large database.
            with transaction.atomic():
                fixed = recompute_sort_keys(business_id=business.pk)
            if fixed:
                self.stdout.write(f"{business.name} (id {business.pk}): {fixed} customers fixed")
            fixed_total += fixed
        self.stdout.write(
            self.style.SUCCESS(
                f"Recomputed sort keys in {len(businesses)} businesses; "
                f"{fixed_total} customers changed."
            )
        )


def _iso(value: Any) -> str:
    return value.isoformat() if value is not None else "none"
