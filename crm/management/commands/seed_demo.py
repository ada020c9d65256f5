"""manage.py seed_demo: demo businesses, users and CRM records (idempotent)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from crm.demo import DEMO_PASSWORD, DEMO_SUPERUSER, Volume, seed_demo

PROGRESS_BAR_THRESHOLD = 5000  # rows; below this the command finishes in a blink


def positive_int(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        f"Create demo businesses, users (password '{DEMO_PASSWORD}') and CRM records. "
        "Businesses that already exist are left as they are, so running it twice changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--customers", type=positive_int, default=60, help="Customers per business (60)."
        )
        parser.add_argument(
            "--max-leads", type=positive_int, default=4, help="Most leads per customer (4)."
        )
        parser.add_argument(
            "--max-calls", type=positive_int, default=8, help="Most calls per customer (8)."
        )
        parser.add_argument(
            "--max-messages",
            type=positive_int,
            default=12,
            help="Most WhatsApp messages per customer (12).",
        )
        parser.add_argument("--seed", type=int, default=2026, help="Random seed (2026).")
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even with DEBUG off. The demo users have a published password.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError(
                "Refusing to create demo users with a published password while DEBUG is off; "
                "pass --allow-production if this really is a throwaway database."
            )
        volume = Volume(
            customers=options["customers"],
            max_leads_per_customer=options["max_leads"],
            max_calls_per_customer=options["max_calls"],
            max_messages_per_customer=options["max_messages"],
        )
        total = volume.approximate_rows * 3
        with tqdm(
            total=total,
            unit="rows",
            disable=total < PROGRESS_BAR_THRESHOLD or options["verbosity"] == 0,
            file=self.stderr._out,
        ) as bar:
            report = seed_demo(volume=volume, seed=options["seed"], progress=bar.update)

        if report.created_businesses:
            self.stdout.write(
                self.style.SUCCESS(f"Created: {', '.join(report.created_businesses)}")
            )
        if report.skipped_businesses:
            self.stdout.write(
                f"Already there, left unchanged: {', '.join(report.skipped_businesses)}"
            )
        self.stdout.write(
            f"\nLog in to the browsable API or /admin/ with password '{DEMO_PASSWORD}' as one of:\n"
            f"  {', '.join(name for name in report.tokens if name != DEMO_SUPERUSER)} (API), "
            f"{DEMO_SUPERUSER} (admin site)\n"
            "\nTokens for the API (Authorization: Token <key>; make token USER=<name> "
            "prints one again):"
        )
        for username, key in report.tokens.items():
            note = "  (staff: cache_stats --url, /api/ops/)" if username == DEMO_SUPERUSER else ""
            self.stdout.write(f"  {username:<15} {key}{note}")
